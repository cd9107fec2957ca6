import { useQuery, useQueryClient } from '@tanstack/react-query';

import { api, call, type User } from '../api/client';

/** The logged-in user, or null; GET /api/auth/session (the httpOnly cookie is the session). */
export function useSession(): { user: User | null | undefined; refresh: () => Promise<void> } {
  const client = useQueryClient();
  const { data } = useQuery({
    queryKey: ['me'],
    queryFn: async () => (await call(api.GET('/api/auth/session'))).user ?? null,
    staleTime: 60_000,
  });
  return {
    user: data,
    refresh: () => client.invalidateQueries({ queryKey: ['me'] }),
  };
}
