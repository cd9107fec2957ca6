--[[ Read a goods cache entry of the current generation in one round trip.
  Entries live at <base><gen>:<suffix>, where KEYS[1] is <base>gen; a write bumps the
  generation, so every older entry is dead at once and expires by its TTL.
  KEYS[1] generation counter (…goods:gen)
  KEYS[2] WAL position a read must see (…goods:lsn; bump-generation-2.lua keeps it)
  ARGV[1] entry suffix (d:<id> or l:<page>:<limit>)
  Output: { generation, cached JSON or false, WAL position or false (unknown) } ]]
local rcall = redis.call
local gen = rcall('GET', KEYS[1]) or '0'
local base = string.sub(KEYS[1], 1, -4)
return { gen, rcall('GET', base .. gen .. ':' .. ARGV[1]), rcall('GET', KEYS[2]) }
