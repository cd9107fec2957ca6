--[[ Record the outcomes of committed bookings, give back what rejected ones took, and take
  their entries off the booking log, in one step. A booking is settled once: a redelivered
  outcome finds it no longer PENDING and changes nothing.
  KEYS[1] booking record prefix (…bk:r:)   KEYS[2] goods key prefix (…bk:g:)
  KEYS[3] booking log stream
  ARGV[1] record TTL s after settling   ARGV[2] consumer group   ARGV[3] n log entry ids
  ARGV[4..3+n] log entry ids (acknowledged and deleted)
  ARGV[4+n..] groups of 6: bookingId, goodsId, userId, quantity, status, reason
  Records are strings 'status|goodsId|userId|quantity|reason' (admit-bookings-5.lua).
  Output: number of bookings settled now ]]
local rcall = redis.call
local n = tonumber(ARGV[3])
local settled = 0
for i = 4 + n, #ARGV, 6 do
  local id, g, u, q, status, reason = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), ARGV[i + 4], ARGV[i + 5]
  local key = KEYS[1] .. id
  local current = rcall('GET', key)
  local pending = current and string.sub(current, 1, 8) == 'PENDING|'
  if pending or current == false then
    -- Stock goes back only to a goods still loaded (a removed goods' keys stay removed), and
    -- only when this admission took it (no record: admitted elsewhere, or the record expired).
    if pending and status == 'REJECTED' and rcall('EXISTS', KEYS[2] .. g) == 1 then
      rcall('HINCRBY', KEYS[2] .. g, 'left', q)
      local held = rcall('HINCRBY', KEYS[2] .. g .. ':u', u, -q)
      if held <= 0 then rcall('HDEL', KEYS[2] .. g .. ':u', u) end
    end
    rcall('SET', key, status .. '|' .. g .. '|' .. u .. '|' .. q .. '|' .. reason, 'EX', ARGV[1])
    settled = settled + 1
  end
end
-- in slices: unpack is limited by Lua's C stack (8,000), batches go up to 10,000
for from = 4, 3 + n, 1000 do
  local to = math.min(from + 999, 3 + n)
  rcall('XACK', KEYS[3], ARGV[2], unpack(ARGV, from, to))
  rcall('XDEL', KEYS[3], unpack(ARGV, from, to))
end
return settled
