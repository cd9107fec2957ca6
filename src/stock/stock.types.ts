/** What stock and booking need of a goods: its limit, what is booked, who may book when. */
export interface StockState {
  id: number;
  bookingLimit: number;
  bookingCount: number;
  maxPerUser: number;
  saleStartsAt: Date | null;
  saleEndsAt: Date | null;
}
