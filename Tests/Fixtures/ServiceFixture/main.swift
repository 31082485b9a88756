// A pipeline executable built the standard way (PipelineOptions + PipelineService), for the tests of the standard
// options, startup checks, metrics endpoint and signal handling. `--print-handled` prints
// `handled <event id> <topic> <partition> <offset>` per handled event; `--delay-ms N` makes the handler slow.
import ArgumentParser
import DabbaEvents
import DabbaPipeline
import DabbaService
import Foundation

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

    @Flag(help: "Print a line per handled event: handled <id> <topic> <partition> <offset>.")
    var printHandled = false

    @Option(help: "Milliseconds each handler call takes.")
    var delayMs = 0

    func run() async throws {
        var pipeline = Pipeline(service: "authorizer", groupID: "payments-authorizer")
        if !withoutHandler {
            let printHandled = self.printHandled
            let delay = Duration.milliseconds(delayMs)
            pipeline.on(PaymentRequested.self) { event, context in
                if delay > .zero { try await Task.sleep(for: delay) }
                try context.database?.execute(
                    "INSERT INTO authorizations (payment_id) VALUES (?)", [.text(event.paymentId)]
                )
                if printHandled {
                    let line = "handled \(context.envelope.id) \(context.topic) \(context.partition) \(context.offset)\n"
                    FileHandle.standardOutput.write(Data(line.utf8))
                }
            }
        }
        try await PipelineService.run(
            pipeline, options: options,
            migrations: ["CREATE TABLE IF NOT EXISTS authorizations (payment_id TEXT NOT NULL)"]
        )
    }
}
