/**
 * The Redis keys of live stock (the client adds REDIS_KEY_PREFIX): per goods, a hash of what
 * is left, the per-user limit and the sale window, and a hash of each user's held quantity.
 * Booking's scripts take and return stock in these keys; scripts that walk several goods get
 * the prefix and build keys themselves (fine on one Redis; a cluster would need hash tags).
 */
export const stockKeys = {
  goods: (goodsId: number | string) => `bk:g:${goodsId}`,
  goodsUsers: (goodsId: number | string) => `bk:g:${goodsId}:u`,
  goodsPrefix: 'bk:g:',
} as const;
