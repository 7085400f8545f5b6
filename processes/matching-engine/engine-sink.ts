// Where the engine's outputs go. Every method takes primitives only, so emitting an output allocates
// nothing; the process wrapper encodes each call straight into its output ring, tests record them.
//
// The methods mirror the engine output messages of bus/schema.ts (OrderAccepted, OrderRejected,
// Fill, OrderCanceled, OrderAmended, OrderExpired, BookLevelChanged) with the same field names.
// Fields the engine cannot know are filled in by the wrapper from the command being applied:
// epoch, gatewayId/requestId and OrderRejected.commandType.
//
// Every call carries inSeq (the journal sequence of the command that caused it) and outIndex (its
// position among that command's outputs, from 0), so (inSeq, outIndex) names each output exactly
// once: a warm engine taking over publishes precisely the outputs the hot did not.
//
// Prices are in the product's price units (integer multiples of its tick size), quantities in
// units (integer multiples of its lot size), exactly as the commands carried them.

export interface EngineSink {
  /** The order (or what was left of it after matching) now rests in the book. */
  onAccepted(
    inSeq: number,
    outIndex: number,
    orderId: number,
    accountId: number,
    productId: number,
    side: number,
    price: number,
    quantity: number,
    leavesQuantity: number,
  ): void;

  /** The command changed nothing. productId is 0 when the order is unknown. */
  onRejected(inSeq: number, outIndex: number, orderId: number, accountId: number, productId: number, reason: number): void;

  /** One match: both executions. The price is the maker's (resting order's) price. */
  onFill(
    inSeq: number,
    outIndex: number,
    execId: number,
    productId: number,
    price: number,
    quantity: number,
    takerSide: number,
    makerOrderId: number,
    makerAccountId: number,
    makerLeaves: number,
    makerCumQuantity: number,
    takerOrderId: number,
    takerAccountId: number,
    takerLeaves: number,
    takerCumQuantity: number,
  ): void;

  /**
   * canceledQuantity left the order. leavesQuantity is what remains open: 0 for a full cancel; more
   * than 0 only for a self-trade decrement (policy DECREMENT_AND_CANCEL), which leaves the larger
   * order open with its time priority. (bus/schema.ts OrderCanceled does not carry leavesQuantity
   * yet; the product manager can derive it as its leaves minus canceledQuantity.)
   */
  onCanceled(
    inSeq: number,
    outIndex: number,
    orderId: number,
    accountId: number,
    productId: number,
    side: number,
    price: number,
    canceledQuantity: number,
    leavesQuantity: number,
    reason: number,
  ): void;

  /** newQuantity is the order's new total (filled included); leavesQuantity = newQuantity - filled. */
  onAmended(
    inSeq: number,
    outIndex: number,
    orderId: number,
    accountId: number,
    productId: number,
    side: number,
    oldPrice: number,
    newPrice: number,
    newQuantity: number,
    leavesQuantity: number,
    lostPriority: boolean,
  ): void;

  /** A DAY order reached the trading day's close. */
  onExpired(
    inSeq: number,
    outIndex: number,
    orderId: number,
    accountId: number,
    productId: number,
    side: number,
    price: number,
    expiredQuantity: number,
  ): void;

  /** Level-2 delta after every change of a level; quantity 0 and orderCount 0 mean the level is gone. */
  onBookLevel(
    inSeq: number,
    outIndex: number,
    productId: number,
    side: number,
    price: number,
    quantity: number,
    orderCount: number,
  ): void;
}
