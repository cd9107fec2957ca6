--[[ A reader found the WAL position unknown and asked the primary for its current one, which
  covers every write committed before it asked. It stands only if no goods write bumped the
  generation since the reader saw it (that write's own bump decides the position).
  KEYS[1] generation counter (…goods:gen)
  KEYS[2] WAL position (…goods:lsn)
  ARGV[1] the generation the reader saw
  ARGV[2] the primary's position, asked after that
  Output: 1 if the position now covers ARGV[2], else 0 ]]
local rcall = redis.call
if (rcall('GET', KEYS[1]) or '0') ~= ARGV[1] then
  return 0
end
local seen = rcall('GET', KEYS[2])
if not seen or tonumber(seen) < tonumber(ARGV[2]) then
  rcall('SET', KEYS[2], ARGV[2])
end
return 1
