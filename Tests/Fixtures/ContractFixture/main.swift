// The payments authorizer of Topics/payments.asyncapi.yaml, honouring its contract: it handles what its group
// receives and declares samples of what it emits. `dabba contract verify` must pass it.
import DabbaEvents
import DabbaPipeline
import DabbaService
import Foundation
import PaymentsFixtureEvents

let now = Date(timeIntervalSince1970: 1_742_000_000)
var pipeline = Pipeline(service: "payments-authorizer", groupID: "payments-authorizer")
pipeline.on(PaymentRequested.self) { event, context in
    try await context.emit(
        PaymentAuthorized(
            paymentId: event.paymentId, orderId: event.orderId, amount: event.amount, provider: "acme-cards",
            authorizationCode: "A1B2C3", authorizedAt: Date()
        )
    )
}
pipeline.emits(
    PaymentAuthorized(
        paymentId: "pay_01HV6Q3K8Z", orderId: "ord_7731", amount: Money(amountMinor: 4250, currency: "EUR"),
        provider: "acme-cards", authorizationCode: "A1B2C3", authorizedAt: now
    )
)
pipeline.emits(
    PaymentDeclined(
        paymentId: "pay_01HV6Q3K8Z", orderId: "ord_7731", reason: "insufficient_funds", retryable: true, declinedAt: now
    ),
    PaymentDeclined(
        paymentId: "pay_01HV6R0000", orderId: "ord_7790", reason: "fraud_suspected", retryable: false, declinedAt: now
    )
)
await PipelineService.main(pipeline)
