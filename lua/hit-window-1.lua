--[[ Count one hit in a fixed window and say whether the caller is over the limit.
  KEYS[1] counter key
  ARGV[1] window length in ms   ARGV[2] limit
  Output: { hits, msUntilReset, blocked(0|1) } ]]
local rcall = redis.call
local hits = rcall('INCR', KEYS[1])
local ttl = rcall('PTTL', KEYS[1])
if ttl < 0 then
  rcall('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
local blocked = 0
if hits > tonumber(ARGV[2]) then blocked = 1 end
return { hits, ttl, blocked }
