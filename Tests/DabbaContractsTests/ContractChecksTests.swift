import DabbaCatalog
import DabbaContracts
import DabbaEvents
import DabbaPipeline
import Foundation
import PaymentsFixtureEvents
import Testing

/// A handler type that expects a field the catalog's examples do not have.
struct PaymentRequestedWithTip: Event {
    static let eventType = "payments.payment.requested"
    var paymentId: String
    var tipMinor: Int
    var partitionKey: String? { nil }
}

/// Keyed by payment id, while the catalog's `x-dabba-key` is `/orderId`.
struct PaymentDeclinedWrongKey: Event {
    static let eventType = "payments.payment.declined"
    var paymentId: String
    var orderId: String
    var reason: String
    var retryable: Bool
    var declinedAt: Date
    var partitionKey: String? { paymentId }
}

struct PaymentRefunded: Event {
    static let eventType = "payments.payment.refunded"
    var paymentId: String
    var partitionKey: String? { paymentId }
}

struct PaymentRequestedV2: Event {
    static let eventType = "payments.payment.requested"
    static let schemaVersion = 2
    var paymentId: String
    var partitionKey: String? { nil }
}

let declinedAt = Date(timeIntervalSince1970: 1_742_000_000)

@Suite("Contract checks")
struct ContractChecksTests {
    @Test("a service that honours the catalog passes every check")
    func passing() throws {
        var pipeline = Pipeline(service: "payments-authorizer", groupID: "payments-authorizer")
        pipeline.on(PaymentRequested.self) { _, _ in }
        pipeline.emits(
            PaymentDeclined(paymentId: "pay_01HV6Q3K8Z", orderId: "ord_1", reason: "card_expired", retryable: false, declinedAt: declinedAt)
        )
        let report = ContractChecks.check(pipeline, against: try paymentsCatalog())
        #expect(report.failures.map { $0.line(service: "authorizer") } == [])
        #expect(report.handles == ["payments.payment.requested"])
        #expect(report.emits == ["payments.payment.declined"])
        #expect(report.receives == ["payments.payment.requested"])
        let checks = report.findings.map { "\($0.check) \($0.eventType)" }
        #expect(
            checks == [
                "decode payments.payment.requested", "sender payments.payment.declined",
                "encode payments.payment.declined", "handler payments.payment.requested",
            ]
        )
    }

    @Test("in structured mode the examples decode from whole structured records, and the finding says so")
    func structuredMode() throws {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Topics/payments.asyncapi.yaml").standardized
        let yaml = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(
            of: "      name: payments.payment.requested\n",
            with: "      name: payments.payment.requested\n      x-dabba-content-mode: structured\n"
        )
        let catalog = try Catalog.load(yaml: yaml, path: "Topics/payments.asyncapi.yaml")
        #expect(catalog.event(named: "payments.payment.requested")?.contentMode == .structured)
        var pipeline = Pipeline(service: "payments-authorizer", groupID: "payments-authorizer")
        pipeline.on(PaymentRequested.self) { _, _ in }
        let report = ContractChecks.check(pipeline, against: catalog)
        #expect(report.failures.map { $0.line(service: "authorizer") } == [])
        let decodes = report.findings.filter { $0.check == .decode }.compactMap(\.message)
        #expect(!decodes.isEmpty && decodes.allSatisfy { $0.hasSuffix("decodes (structured mode)") }, "\(decodes)")

        var broken = Pipeline(service: "payments-authorizer", groupID: "payments-authorizer")
        broken.on(PaymentRequestedWithTip.self) { _, _ in }
        let failing = ContractChecks.check(broken, against: catalog).failures.filter { $0.check == .decode }
        #expect(failing.first?.message?.contains("missing field 'tipMinor'") == true, "\(failing)")
    }

    @Test("a sample with a field the schema forbids names the field and the rule")
    func forbiddenField() throws {
        struct Declined: Event {
            static let eventType = "payments.payment.declined"
            var paymentId: String
            var orderId: String
            var reason: String
            var retryable: Bool
            var declinedAt: Date
            var comment: String
            var partitionKey: String? { orderId }
        }
        var pipeline = Pipeline(service: "payments-authorizer", groupID: "payments-authorizer")
        pipeline.on(PaymentRequested.self) { _, _ in }
        pipeline.emits(
            Declined(paymentId: "pay_01HV6Q3K8Z", orderId: "ord_1", reason: "card_lost", retryable: false, declinedAt: declinedAt, comment: "x")
        )
        let report = ContractChecks.check(pipeline, against: try paymentsCatalog())
        #expect(
            report.failures.map { $0.line(service: "authorizer") } == [
                #"authorizer emits payments.payment.declined: /reason: value "card_lost" is not one of ["insufficient_funds", "card_expired", "fraud_suspected", "provider_unavailable"] (enum)"#,
                #"authorizer emits payments.payment.declined: /comment: property 'comment' is not allowed (additionalProperties is false) (additionalProperties)"#,
            ]
        )
    }

    @Test("an example that does not decode, a missing handler, a wrong key, an unknown type, a version mismatch")
    func failures() throws {
        var pipeline = Pipeline(service: "payments-authorizer", groupID: "payments-authorizer")
        pipeline.on(PaymentRequestedWithTip.self) { _, _ in }
        pipeline.emits(
            PaymentDeclinedWrongKey(paymentId: "pay_01HV6Q3K8Z", orderId: "ord_1", reason: "card_expired", retryable: false, declinedAt: declinedAt),
            PaymentDeclinedWrongKey(paymentId: "pay_01HV6Q3K8Y", orderId: "ord_1", reason: "card_expired", retryable: false, declinedAt: declinedAt)
        )
        pipeline.emits(PaymentRefunded(paymentId: "pay_1"))
        let report = ContractChecks.check(pipeline, against: try paymentsCatalog())
        #expect(
            report.failures.map { $0.line(service: "authorizer") } == [
                "authorizer handles payments.payment.requested: example 'card-payment' does not decode: missing field 'tipMinor' at / (decode)",
                "authorizer emits payments.payment.declined: sample 1: partitionKey is 'pay_01HV6Q3K8Z' but x-dabba-key /orderId gives 'ord_1' (key)",
                "authorizer emits payments.payment.declined: sample 2: partitionKey is 'pay_01HV6Q3K8Y' but x-dabba-key /orderId gives 'ord_1' (key)",
                "authorizer emits payments.payment.refunded: the catalog declares no such event type (catalog)",
            ]
        )

        var unhandled = Pipeline(service: "checkout", groupID: "payments-authorizer")
        unhandled.on(PaymentRequestedV2.self) { _, _ in }
        unhandled.emits(PaymentDeclined(paymentId: "pay_01HV6Q3K8Z", orderId: "o", reason: "card_expired", retryable: true, declinedAt: declinedAt))
        let second = ContractChecks.check(unhandled, against: try paymentsCatalog())
        #expect(
            second.failures.map { $0.line(service: "checkout") } == [
                "checkout handles payments.payment.requested: the Swift type has schemaVersion 2, the catalog's x-dabba-schema-version is 1 (version)",
                "checkout emits payments.payment.declined: the catalog's send operations name x-dabba-service payments-authorizer, not checkout (sender)",
            ]
        )

        var missing = Pipeline(service: "payments-authorizer", groupID: "payments-authorizer")
        missing.ignore("payments.payment.other", because: "not routed")
        let third = ContractChecks.check(missing, against: try paymentsCatalog())
        #expect(
            third.failures.map { $0.line(service: "authorizer") } == [
                "authorizer receives payments.payment.requested: the catalog routes it to group payments-authorizer but there is no handler and no pipeline.ignore (handler)"
            ]
        )
        var ignoring = Pipeline(service: "payments-authorizer", groupID: "payments-authorizer")
        ignoring.ignore("payments.payment.requested", because: "handled by the legacy authorizer")
        #expect(ContractChecks.check(ignoring, against: try paymentsCatalog()).passed)
    }

    @Test("the report round-trips through JSON")
    func json() throws {
        var pipeline = Pipeline(service: "payments-authorizer", groupID: "payments-authorizer")
        pipeline.ignore("payments.payment.requested", because: "legacy")
        let report = ContractChecks.check(pipeline, against: try paymentsCatalog())
        let decoded = try JSONDecoder().decode(ContractReport.self, from: JSONEncoder().encode(report))
        #expect(decoded == report)
        #expect(decoded.ignores == ["payments.payment.requested": "legacy"])
    }
}
