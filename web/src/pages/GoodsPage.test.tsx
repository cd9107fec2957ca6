import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import '../i18n';
import { GoodsPage } from './GoodsPage';

const goods = {
  id: 7,
  title: 'Test show',
  content: 'c',
  price: 1000,
  imgUrl: 'https://img.example.com/a.jpg',
  showDate: '2027-03-01T19:00:00.000Z',
  bookingLimit: 10,
  bookingCount: 0,
  remaining: 10,
  saleStartsAt: null,
  saleEndsAt: null,
  maxPerUser: 1,
  hostId: 1,
  createdAt: '2026-11-24T10:00:00.000Z',
  updatedAt: '2026-11-24T10:00:00.000Z',
};

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });

/** The booking requests the page sent: their Idempotency-Keys, in order. */
let bookingKeys: string[];
/** What the next booking requests answer, in order (then 202 PENDING). */
let answers: Response[];

beforeEach(() => {
  bookingKeys = [];
  answers = [];
  vi.stubGlobal(
    'fetch',
    vi.fn((input: Request | string) => {
      const request =
        typeof input === 'string' ? new Request(new URL(input, 'http://localhost:3000')) : input;
      const path = new URL(request.url).pathname;
      if (path === '/api/auth/session') {
        return Promise.resolve(
          json(200, { user: { id: 3, email: 'a@b.co', nickname: 'a', role: 'user' } }),
        );
      }
      if (path === '/api/time') {
        return Promise.resolve(json(200, { now: Date.now() }));
      }
      if (path === '/api/me/bookings') {
        return Promise.resolve(json(200, { items: [], page: 1, limit: 100, total: 0 }));
      }
      if (path === '/api/goods/7/bookings') {
        bookingKeys.push(request.headers.get('idempotency-key') ?? '');
        return Promise.resolve(
          answers.shift() ??
            json(202, { id: `b${bookingKeys.length}`, status: 'PENDING', goodsId: 7, quantity: 1 }),
        );
      }
      if (path === '/api/goods/7') {
        return Promise.resolve(json(200, goods));
      }
      return Promise.resolve(json(404, { statusCode: 404, code: 'NOT_FOUND', message: 'x' }));
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

function renderPage() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <MemoryRouter initialEntries={['/goods/7']}>
        <Routes>
          <Route path="/goods/:goodsId" element={<GoodsPage />} />
        </Routes>
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe('the goods page books once per press', () => {
  it('a double click sends one request; a second press after the first ends sends a new key', async () => {
    renderPage();
    const book = await screen.findByRole('button', { name: 'Book' });
    answers.push(json(409, { statusCode: 409, code: 'SOLD_OUT', message: 'x' }));
    fireEvent.click(book);
    fireEvent.click(book);
    await screen.findByText('Sold out. You can join the waitlist.');
    expect(bookingKeys).toHaveLength(1);
    fireEvent.click(await screen.findByRole('button', { name: 'Book' }));
    await screen.findByText(/Booked, confirming/);
    expect(bookingKeys).toHaveLength(2);
    expect(bookingKeys[1]).not.toBe(bookingKeys[0]);
  });

  it('a 503 with Retry-After waits visibly, then retries with the same key', async () => {
    renderPage();
    const book = await screen.findByRole('button', { name: 'Book' });
    answers.push(
      json(503, { statusCode: 503, code: 'BOOKING_BUSY', message: 'x' }, { 'retry-after': '1' }),
    );
    fireEvent.click(book);
    await screen.findByText(/trying again in 1 s/);
    expect(screen.getByRole('button', { name: 'Book' })).toHaveProperty('disabled', true);
    await act(() => new Promise((r) => setTimeout(r, 1200)));
    await screen.findByText(/Booked, confirming/);
    expect(bookingKeys).toHaveLength(2);
    expect(bookingKeys[1]).toBe(bookingKeys[0]);
  });
});
