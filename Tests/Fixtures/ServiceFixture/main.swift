// A pipeline executable built the standard way (PipelineOptions + PipelineService), for the tests of the standard
// options, startup checks, metrics endpoint and signal handling.
import ArgumentParser
import DabbaEvents
import DabbaPipeline
import DabbaService

struct PaymentRequested: Event {
    static let eventType = "payments.payment.requested"
    var paymentId: String
    var orderId: String
    var partitionKey: String? { orderId }
}

@main
struct ServiceFixture: AsyncParsableCommand {
    @OptionGroup var options: PipelineOptions

    @Flag(help: "Leave the requested event unhandled (to test the startup check).")
    var withoutHandler = false

    func run() async throws {
        var pipeline = Pipeline(service: "authorizer", groupID: "payments-authorizer")
        if !withoutHandler {
            pipeline.on(PaymentRequested.self) { event, context in
                try context.database?.execute(
                    "INSERT INTO authorizations (payment_id) VALUES (?)", [.text(event.paymentId)]
                )
            }
        }
        try await PipelineService.run(
            pipeline, options: options,
            migrations: ["CREATE TABLE IF NOT EXISTS authorizations (payment_id TEXT NOT NULL)"]
        )
    }
}
