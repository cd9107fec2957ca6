--[[ Apply a goods edit to its live booking state, if loaded: the stock moves by the change
  of bookingLimit; the sale window and per-user limit are replaced.
  KEYS[1] goods hash
  ARGV[1] bookingLimit delta  ARGV[2] maxPerUser  ARGV[3] startsAt ms  ARGV[4] endsAt ms
  Output: 1 updated | 0 not loaded ]]
local rcall = redis.call
if rcall('EXISTS', KEYS[1]) == 0 then return 0 end
rcall('HINCRBY', KEYS[1], 'left', ARGV[1])
rcall('HSET', KEYS[1], 'max', ARGV[2], 'start', ARGV[3], 'end', ARGV[4])
return 1
