// A payments authorizer that breaks Topics/payments.asyncapi.yaml on purpose, for the `dabba contract verify`
// tests: its authorized event carries a field the schema forbids, and it has no handler for the requested event
// its consumer group receives.
import DabbaEvents
import DabbaPipeline
import DabbaService
import Foundation
// Only the amount type is shared: this authorizer's PaymentAuthorized is wrong on purpose.
import struct PaymentsFixtureEvents.Money

struct PaymentAuthorized: Event {
    static let eventType = "payments.payment.authorized"
    var paymentId: String
    var orderId: String
    var amount: Money
    var provider: String
    var authorizationCode: String
    var authorizedAt: Date
    /// Not in the catalog's schema, which has `additionalProperties: false`.
    var cardNumber: String
    var partitionKey: String? { orderId }
}

var pipeline = Pipeline(service: "payments-authorizer", groupID: "payments-authorizer")
pipeline.emits(
    PaymentAuthorized(
        paymentId: "pay_01HV6Q3K8Z", orderId: "ord_7731", amount: Money(amountMinor: 4250, currency: "EUR"),
        provider: "acme-cards", authorizationCode: "A1B2C3", authorizedAt: Date(timeIntervalSince1970: 1_742_000_000),
        cardNumber: "4111111111111111"
    )
)
await PipelineService.main(pipeline)
