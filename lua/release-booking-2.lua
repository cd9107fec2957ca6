--[[ After a cancellation is committed: the cancelled quantity leaves its owner, promoted
  waitlisted users each take one, and what is left returns to stock.
  KEYS[1] goods hash   KEYS[2] goods user-quantity hash
  ARGV[1] owner userId  ARGV[2] cancelled quantity  ARGV[3..] promoted userIds
  Output: stock left ]]
local rcall = redis.call
if rcall('EXISTS', KEYS[1]) == 0 then return -1 end
local q = tonumber(ARGV[2])
local held = rcall('HINCRBY', KEYS[2], ARGV[1], -q)
if held <= 0 then rcall('HDEL', KEYS[2], ARGV[1]) end
for i = 3, #ARGV do
  rcall('HINCRBY', KEYS[2], ARGV[i], 1)
end
return rcall('HINCRBY', KEYS[1], 'left', q - (#ARGV - 2))
