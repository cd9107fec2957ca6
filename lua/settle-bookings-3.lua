--[[ Record the outcomes of committed bookings and give back what rejected ones took. A
  booking is settled once: a redelivered outcome finds it no longer PENDING and changes nothing.
  KEYS[1] key prefix of booking hashes (…bk:b:)   KEYS[2] key prefix of goods state (…bk:g:)
  ARGV[1] booking hash TTL s after settling
  ARGV[2..] groups of 6: bookingId, goodsId, userId, quantity, status, reason
  Output: number of bookings settled now ]]
local rcall = redis.call
local settled = 0
for i = 2, #ARGV, 6 do
  local id, g, u, q, status, reason = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3]), ARGV[i + 4], ARGV[i + 5]
  local key = KEYS[1] .. id
  local current = rcall('HGET', key, 'status')
  if current == 'PENDING' or current == false then
    -- Stock goes back only to a goods still loaded (a removed goods' keys stay removed).
    if status == 'REJECTED' and current == 'PENDING' and rcall('EXISTS', KEYS[2] .. g) == 1 then
      rcall('HINCRBY', KEYS[2] .. g, 'left', q)
      local held = rcall('HINCRBY', KEYS[2] .. g .. ':u', u, -q)
      if held <= 0 then rcall('HDEL', KEYS[2] .. g .. ':u', u) end
    end
    rcall('HSET', key, 'status', status, 'g', g, 'u', u, 'q', q, 'reason', reason)
    rcall('EXPIRE', key, ARGV[1])
    settled = settled + 1
  end
end
return settled
