import { DECLINE, FastRoutes } from '../common/fast-path';
import { plainId } from '../common/ids';
import { PAGE } from '../common/page-query';
import { ListGoodsQuery } from './goods.dto';
import { GoodsService, JSON_TYPE } from './goods.service';

/** `?page=&limit=` written plainly and in PageQuery's range, or undefined. */
function plainPage(query: unknown): ListGoodsQuery | undefined {
  const q = (query ?? {}) as Record<string, unknown>;
  const keys = Object.keys(q);
  if (keys.some((k) => k !== 'page' && k !== 'limit')) {
    return undefined;
  }
  const number = (value: unknown, fallback: number, max: number): number | undefined => {
    if (value === undefined) {
      return fallback;
    }
    return typeof value === 'string' && /^[1-9]\d{0,5}$/.test(value) && Number(value) <= max
      ? Number(value)
      : undefined;
  };
  const page = number(q.page, 1, PAGE.maxPage);
  const limit = number(q.limit, PAGE.defaultLimit, PAGE.maxLimit);
  return page === undefined || limit === undefined ? undefined : { page, limit };
}

/**
 * GET /api/goods and GET /api/goods/:goodsId with a plain id: the same goods the controller's GoodsService.get
 * gives, as JSON text that GoodsService keeps in memory for GOODS_LOCAL_CACHE_MS.
 */
export function goodsFastPaths(goods: GoodsService): FastRoutes {
  return {
    'GET /api/goods': {
      covers: [],
      answer: async (request, reply) => {
        const query = plainPage(request.query);
        if (query === undefined) {
          return DECLINE;
        }
        const json = await goods.listJson(query);
        void reply.type(JSON_TYPE);
        return json;
      },
    },
    'GET /api/goods/:goodsId': {
      covers: [],
      answer: async (request, reply) => {
        const goodsId = plainId((request.params as { goodsId?: unknown }).goodsId);
        if (goodsId === undefined) {
          return DECLINE;
        }
        const json = await goods.getJson(goodsId);
        void reply.type(JSON_TYPE);
        return json;
      },
    },
  };
}
