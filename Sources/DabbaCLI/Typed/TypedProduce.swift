import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DabbaSchema
import Foundation

/// `dabba produce EVENT_TYPE`: sends catalog-checked CloudEvents.
///
/// Everything that can be checked without Kafka is checked first — the catalog loads, the event type exists, the
/// payload parses and matches the event's JSON Schema, the key can be read — so a mistake sends nothing.
struct TypedProduce {
    /// The `ce_source` when `--source` is not given.
    static let defaultSource = "/dabba-cli"

    var eventType: String
    var options: TypedProduceOptions
    var connection: ConnectionOptions
    var key: String?
    var headers: [KafkaHeader]
    var partition: Int32?
    var timeout: Double

    func run() async throws {
        let catalog = try CatalogDirectory.resolve(options.catalog).load()
        guard let event = catalog.event(named: eventType) else {
            let known = CatalogDirectory.eventTypeList(of: catalog)
            throw CLIError("unknown event type '\(eventType)'; the catalog declares: \(known)")
        }
        guard Self.isJSON(event.contentType) else {
            throw CLIError(
                "event type '\(event.type)' has content type '\(event.contentType)'; dabba produce sends JSON payloads "
                    + "only"
            )
        }
        let template = try PayloadTemplate(options.payloadSource.payload(for: event))
        let plan = EventPlan(event: event, template: template, key: key, count: options.count)
        var generator = SystemRandomNumberGenerator()
        let first = try plan.prepare(sequence: 0, now: Date(), using: &generator)

        let client = try connection.clientConfiguration()
        var configuration = ProducerConfiguration(client: client)
        configuration.messageTimeout = .cliSeconds(timeout)
        configuration.publishesDeliveryReports = options.count != nil
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(
                configuration: configuration,
                logger: connection.logger(label: "dabba.produce")
            )
        } catch let error as KafkaError {
            throw CLIError(error.cliDescription)
        }
        let partitionCount: Int32
        do {
            partitionCount = try await TopicCheck.partitionCount(
                of: event.topic,
                producer: producer,
                servers: client.bootstrapServers,
                timeout: timeout
            )
        } catch var error as CLIError where error.message.hasPrefix("topic '\(event.topic)' does not exist") {
            error.message +=
                " (event type '\(event.type)' is sent there; create the catalog's topics with `dabba topics apply` "
                + "or start `dabba broker --catalog DIR`)"
            throw error
        }
        if let partition, partition >= partitionCount {
            throw CLIError(
                "topic '\(event.topic)' has \(partitionCount) partition\(partitionCount == 1 ? "" : "s") "
                    + "(0...\(partitionCount - 1)); there is no partition \(partition)"
            )
        }
        let sender = EventSender(
            events: EventProducer(
                producer: producer,
                source: options.source ?? Self.defaultSource,
                routes: EventRoutes(catalog: catalog)
            ),
            event: event,
            headers: headers,
            partition: partition,
            limits: ProduceCommand.Limits(
                maxMessageBytes: client.properties["message.max.bytes"].flatMap { Int($0) }
                    ?? configuration.maxMessageBytes,
                timeout: timeout,
                topic: event.topic
            )
        )
        if let count = options.count {
            let load = LoadRun(
                sender: sender,
                plan: plan,
                first: first,
                count: count,
                rate: options.rate,
                timeout: timeout
            )
            try await load.run()
        } else {
            try await sendOne(first, sender: sender)
        }
    }

    private func sendOne(_ prepared: PreparedPayload, sender: EventSender) async throws {
        let producer = sender.events.producer
        let id = EventID.make()
        let message = try sender.message(prepared, id: id)
        do {
            let report = try await producer.send(message)
            var line = deliveryJSON(report, key: prepared.key)
            line["type"] = sender.event.type
            line["id"] = id
            Output.json(line)
        } catch let error as KafkaError {
            try? await producer.close(timeout: .seconds(1))
            throw CLIError(sender.limits.explain(error, subject: "the event", size: message.byteCount))
        }
        try await producer.close(timeout: .cliSeconds(timeout))
    }

    /// Whether a content type is JSON: `application/json`, or any `+json` media type (parameters ignored).
    static func isJSON(_ contentType: String) -> Bool {
        let media = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let media else { return false }
        return media == "application/json" || media.hasSuffix("+json")
    }
}

/// A payload ready to send: checked against the schema, encoded, and its partition key read.
struct PreparedPayload: Sendable {
    var bytes: [UInt8]
    var key: String?
}

/// Turns the payload template into checked payloads: renders placeholders, validates against the event's schema,
/// reads the key.
struct EventPlan: Sendable {
    let event: EventSpec
    let template: PayloadTemplate
    /// `--key`: overrides the key read from `x-dabba-key`.
    let key: String?
    /// `--count`, for messages.
    let count: Int?

    /// The checked payload of message `sequence`.
    /// - Throws: ``CLIError``: a schema violation (each one with its JSON Pointer), or a key that cannot be read.
    func prepare(sequence: Int, now: Date, using generator: inout some RandomNumberGenerator) throws
        -> PreparedPayload
    {
        let payload = template.render(sequence: sequence, now: now, using: &generator)
        let name = count != nil && template.hasPlaceholders ? "payload #\(sequence)" : "payload"
        let violations = event.payloadSchema.validate(payload)
        if !violations.isEmpty {
            throw CLIError(
                "\(name) does not match the schema of '\(event.type)': "
                    + violations.map(\.message).joined(separator: "; ")
            )
        }
        let partitionKey: String?
        if let key {
            partitionKey = key
        } else {
            do {
                partitionKey = try event.partitionKey(for: payload)
            } catch let error as PartitionKeyError {
                throw CLIError("\(name): \(error)")
            }
        }
        return PreparedPayload(bytes: Array(payload.serialized(sortedKeys: true)), key: partitionKey)
    }
}

/// Builds the Kafka record of a typed event: the CloudEvents envelope in headers, the payload as value.
struct EventSender: Sendable {
    let events: EventProducer
    let event: EventSpec
    /// `--header`: added after the CloudEvents headers.
    let headers: [KafkaHeader]
    /// `--partition`.
    let partition: Int32?
    let limits: ProduceCommand.Limits

    /// The record, with the event id `id` (a new UUID when nil).
    func message(_ prepared: PreparedPayload, id: String? = nil) throws -> ProducerMessage {
        var metadata = EventMetadata(id: id, time: Date())
        metadata.headers = headers
        do {
            var message = try events.message(
                type: event.type,
                version: event.schemaVersion,
                payload: prepared.bytes,
                key: prepared.key,
                contentType: event.contentType,
                metadata: metadata
            )
            message.partition = partition
            return message
        } catch let error as KafkaError {
            throw CLIError(error.cliDescription)
        }
    }
}
