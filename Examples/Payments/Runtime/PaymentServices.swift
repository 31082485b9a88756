import DabbaInbox
import DabbaPipeline
import DemoServiceKit
import PaymentsDomain

/// The five services of the example, by executable name, in start order.
public let paymentServiceNames = ["upi-gateway", "upi-ledger", "upi-switch", "upi-risk", "upi-analytics"]

/// The payments topic.
public let paymentsTopic = "upi.payments"

/// The fetch wait the demo and the tests give the services (`--fetch-wait`): the embedded broker holds an empty
/// fetch for the whole wait even when records arrive meanwhile, which would add up to librdkafka's default 500 ms to
/// each hop of the real-time layer. Kafka answers at once, so a deployment keeps the default.
public let upiFetchWait = "20ms"

/// The example system's name in messages.
public let paymentsSystem = "UPI payments"

extension Pipeline {
    /// Declares every payment event type the service has no handler for as deliberately ignored, so it is
    /// acknowledged rather than dead-lettered (every service reads the whole `upi.payments` topic).
    /// - Parameter handled: The types the service handles.
    public mutating func ignoreOtherPaymentEvents(handled: [any PaymentEvent.Type]) {
        ignoreOthers(of: allPaymentEventTypes, handled: handled)
    }
}

/// The database of the handled event (the payments services keep their state in the inbox database).
/// - Parameter context: The event context.
/// - Returns: The event's transaction.
/// - Throws: ``PermanentError`` without an inbox.
public func paymentsDatabase(_ context: EventContext) throws -> any InboxTransaction {
    try ServiceEffects.database(context, system: paymentsSystem)
}

extension SQLValue {
    /// The value as an Int (0 for NULL or non-integers).
    public var int: Int { integerValue.map(Int.init) ?? 0 }
}
