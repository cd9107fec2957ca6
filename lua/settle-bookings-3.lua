--[[ Record the outcomes of committed bookings, give back what rejected ones took, and take
  their entries off the booking log, in one step. A booking is settled once: a redelivered
  outcome finds it no longer PENDING and changes nothing.
  KEYS[1] key prefix of booking hashes (…bk:b:)   KEYS[2] key prefix of goods state (…bk:g:)
  KEYS[3] booking log stream
  ARGV[1] booking hash TTL s after settling   ARGV[2] consumer group   ARGV[3] n log entry ids
  ARGV[4..3+n] log entry ids (acknowledged and deleted)
  ARGV[4+n..] groups of 6: bookingId, goodsId, userId, quantity, status, reason
  Output: number of bookings settled now ]]
local rcall = redis.call
local n = tonumber(ARGV[3])
local settled = 0
for i = 4 + n, #ARGV, 6 do
  local id, g, u, q, status, reason = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), ARGV[i + 4], ARGV[i + 5]
  local key = KEYS[1] .. id
  local current = rcall('HGET', key, 'status')
  if current == 'PENDING' then
    -- Stock goes back only to a goods still loaded (a removed goods' keys stay removed).
    if status == 'REJECTED' and rcall('EXISTS', KEYS[2] .. g) == 1 then
      rcall('HINCRBY', KEYS[2] .. g, 'left', q)
      local held = rcall('HINCRBY', KEYS[2] .. g .. ':u', u, -q)
      if held <= 0 then rcall('HDEL', KEYS[2] .. g .. ':u', u) end
    end
    -- goods, user and quantity are there since admission
    rcall('HSET', key, 'status', status, 'reason', reason)
    rcall('EXPIRE', key, ARGV[1])
    settled = settled + 1
  elseif current == false then
    rcall('HSET', key, 'status', status, 'g', g, 'u', u, 'q', q, 'reason', reason)
    rcall('EXPIRE', key, ARGV[1])
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
