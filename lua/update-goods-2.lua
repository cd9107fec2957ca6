--[[ Apply a goods edit to its live booking state, if loaded: the stock moves by the change
  of bookingLimit; the sale window, per-user limit and expiry are replaced.
  KEYS[1] goods hash   KEYS[2] goods user-quantity hash
  ARGV[1] bookingLimit delta  ARGV[2] maxPerUser  ARGV[3] startsAt ms  ARGV[4] endsAt ms
  ARGV[5] when both keys go, ms since the epoch (0 never), as in load-goods-2.lua
  Output: 1 updated | 0 not loaded ]]
local rcall = redis.call
if rcall('EXISTS', KEYS[1]) == 0 then return 0 end
rcall('HINCRBY', KEYS[1], 'left', ARGV[1])
rcall('HSET', KEYS[1], 'max', ARGV[2], 'start', ARGV[3], 'end', ARGV[4], 'exp', ARGV[5])
for _, key in ipairs(KEYS) do
  if ARGV[5] == '0' then rcall('PERSIST', key) else rcall('PEXPIREAT', key, ARGV[5]) end
end
return 1
