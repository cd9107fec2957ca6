--[[ Create a consumer group (and its stream) unless it exists. A script because the client
  does not add its key prefix to XGROUP's key, but does to a script's KEYS.
  KEYS[1] stream   ARGV[1] group name
  Output: 1 created | 0 existed ]]
local ok = pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if ok then return 1 end
return 0
