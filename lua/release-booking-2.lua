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
-- A promotion may have created the user hash: it goes when the goods hash does.
local exp = rcall('HGET', KEYS[1], 'exp')
if #ARGV > 2 and exp and exp ~= '0' then rcall('PEXPIREAT', KEYS[2], exp) end
return rcall('HINCRBY', KEYS[1], 'left', q - (#ARGV - 2))
