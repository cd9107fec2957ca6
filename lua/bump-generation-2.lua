--[[ After a goods write: every cached read is stale, and a read must see this write.
  The generation and the WAL position change together, so a reader that sees the new
  generation also sees a position at or past the write (get-cached-2.lua reads both at once).
  The position only rises: concurrent writes may bump in either order. Unknown (ARGV[1] empty:
  the position could not be read) or already unknown, it stays unknown, and the next reader
  asks the primary (raise-position-2.lua): a smaller position set now could hide a write.
  KEYS[1] generation counter (…goods:gen)
  KEYS[2] WAL position (…goods:lsn), bytes since 0/0 in decimal
  ARGV[1] the write's position, or ''
  Output: the new generation ]]
local rcall = redis.call
local gen = rcall('INCR', KEYS[1])
local seen = rcall('GET', KEYS[2])
if ARGV[1] == '' then
  rcall('DEL', KEYS[2])
elseif seen and tonumber(seen) < tonumber(ARGV[1]) then
  rcall('SET', KEYS[2], ARGV[1])
end
return gen
