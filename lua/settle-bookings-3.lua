--[[ Take committed bookings out of Redis's hands: a rejected one gives back what it took, every
  one's PENDING record goes (from then on PostgreSQL answers for it), and their entries leave
  the booking log, in one step. A booking is settled once: a redelivered outcome finds no
  PENDING record and changes nothing.
  KEYS[1] booking record prefix (…bk:r:)   KEYS[2] goods key prefix (…bk:g:)
  KEYS[3] booking log stream
  ARGV[1] consumer group   ARGV[2] n log entry ids
  ARGV[3..2+n] log entry ids (acknowledged and deleted)
  ARGV[3+n..] groups of 5: bookingId, goodsId, userId, quantity, status
  Records are strings 'PENDING|goodsId|userId|quantity|' (admit-bookings-5.lua).
  Output: number of bookings settled now ]]
local rcall = redis.call
local n = tonumber(ARGV[2])
local settled = 0
for i = 3 + n, #ARGV, 5 do
  local id, g, u, q, status = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), ARGV[i + 4]
  local key = KEYS[1] .. id
  local current = rcall('GET', key)
  if current and string.sub(current, 1, 8) == 'PENDING|' then
    -- Stock goes back only to a goods still loaded (a removed goods' keys stay removed), and
    -- only when this admission took it (no record: admitted elsewhere, or the record expired).
    if status == 'REJECTED' and rcall('EXISTS', KEYS[2] .. g) == 1 then
      rcall('HINCRBY', KEYS[2] .. g, 'left', q)
      local held = rcall('HINCRBY', KEYS[2] .. g .. ':u', u, -q)
      if held <= 0 then rcall('HDEL', KEYS[2] .. g .. ':u', u) end
    end
    rcall('DEL', key)
    settled = settled + 1
  end
end
-- in slices: unpack is limited by Lua's C stack (8,000), batches go up to 10,000
for from = 3, 2 + n, 1000 do
  local to = math.min(from + 999, 2 + n)
  rcall('XACK', KEYS[3], ARGV[1], unpack(ARGV, from, to))
  rcall('XDEL', KEYS[3], unpack(ARGV, from, to))
end
return settled
