--[[ Load a goods' booking state into Redis unless it is there already (never overwrite live
  counters). Used on first use, after a Redis loss, and by reconcile.
  KEYS[1] goods hash   KEYS[2] goods user-quantity hash
  ARGV[1] left  ARGV[2] maxPerUser  ARGV[3] startsAt ms (0 none)  ARGV[4] endsAt ms (0 none)
  ARGV[5] when both keys go, ms since the epoch (0 never: a sale without an end); the goods
    hash keeps it as 'exp' so the scripts that create the user hash later give it the same
  ARGV[6..] userId, quantity pairs (active bookings)
  Output: 1 loaded | 0 already present ]]
local rcall = redis.call
if rcall('EXISTS', KEYS[1]) == 1 then return 0 end
rcall('DEL', KEYS[2])
rcall('HSET', KEYS[1], 'left', ARGV[1], 'max', ARGV[2], 'start', ARGV[3], 'end', ARGV[4],
  'exp', ARGV[5])
for i = 6, #ARGV, 2 do
  rcall('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
end
if ARGV[5] ~= '0' then
  rcall('PEXPIREAT', KEYS[1], ARGV[5])
  rcall('PEXPIREAT', KEYS[2], ARGV[5])
end
return 1
