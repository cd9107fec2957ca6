--[[ Put one dead letter back on the booking log, as an operator decided (npm run dead-letters
  -- --retry). A booking that was rejected when it was dead-lettered takes its stock and its
  user's count again, and is PENDING again, as at admission, unchecked: the writer decides it
  against PostgreSQL, and a rejection then gives the stock back as any other does.
  KEYS[1] dead-letter stream   KEYS[2] booking log stream   KEYS[3] booking record prefix (…bk:r:)
  KEYS[4] goods key prefix (…bk:g:)
  ARGV[1] dead letter id   ARGV[2] PENDING record TTL s
  ARGV[3] bookingId   ARGV[4] goodsId   ARGV[5] userId   ARGV[6] quantity   ('' ARGV[3]: no
  booking to make PENDING: the entry is malformed, or PostgreSQL has the booking)
  Output: the new log entry id | 0 no such dead letter | -1 its fields cannot make an entry ]]
local rcall = redis.call
local letter = rcall('XRANGE', KEYS[1], ARGV[1], ARGV[1])[1]
if not letter then return 0 end
local fields
for i = 1, #letter[2], 2 do
  if letter[2][i] == 'fields' then fields = letter[2][i + 1] end
end
local ok, list = pcall(cjson.decode, fields or '')
if not ok or type(list) ~= 'table' or #list == 0 or #list % 2 ~= 0 then return -1 end
for i = 1, #list do
  if type(list[i]) ~= 'string' then return -1 end
end

if ARGV[3] ~= '' then
  local record = KEYS[3] .. ARGV[3]
  if rcall('EXISTS', record) == 0 then
    local goods = KEYS[4] .. ARGV[4]
    if rcall('EXISTS', goods) == 1 then
      rcall('HINCRBY', goods, 'left', -tonumber(ARGV[6]))
      rcall('HINCRBY', goods .. ':u', ARGV[5], ARGV[6])
    end
    rcall('SET', record, 'PENDING|' .. ARGV[4] .. '|' .. ARGV[5] .. '|' .. ARGV[6] .. '|', 'EX', ARGV[2])
  end
end
rcall('XDEL', KEYS[1], ARGV[1])
return rcall('XADD', KEYS[2], '*', unpack(list))
