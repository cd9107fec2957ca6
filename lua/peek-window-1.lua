--[[ Read a fixed-window counter without counting a hit.
  KEYS[1] counter key
  Output: { hits, msUntilReset } (0, 0 when absent) ]]
local rcall = redis.call
local hits = tonumber(rcall('GET', KEYS[1]) or '0')
local ttl = rcall('PTTL', KEYS[1])
if ttl < 0 then ttl = 0 end
return { hits, ttl }
