import { DECLINE, FastRoutes, plainId } from '../common/fast-path';
import { GoodsService } from './goods.service';

/** GET /api/goods/:goodsId with a plain id: GoodsService.get, as the controller does. */
export function goodsFastPaths(goods: GoodsService): FastRoutes {
  return {
    'GET /api/goods/:goodsId': async (request) => {
      const goodsId = plainId((request.params as { goodsId?: unknown }).goodsId);
      return goodsId === undefined ? DECLINE : goods.get(goodsId);
    },
  };
}
