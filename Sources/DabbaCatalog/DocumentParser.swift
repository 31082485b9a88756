import DabbaSchema
import Foundation

/// One channel of a document, as far as it could be read.
struct ParsedChannel {
    /// A message entry of the channel: `channels.<id>.messages.<key>`.
    struct Message {
        /// The key under the channel's `messages`.
        var key: String
        /// The pointer of the message object after following `$ref`s.
        var target: JSONPointer
        /// The event type, when the message could be read.
        var eventType: String?
    }

    var id: String
    /// The main topic; `nil` when the channel's address or bindings are unusable.
    var topic: TopicSpec?
    var messages: [Message]
    var retry: ChannelRetry?
}

/// One operation of a document, as far as it could be read.
struct ParsedOperation {
    enum Action: String {
        case send
        case receive
    }

    var id: String
    var action: Action
    var channelID: String
    var topic: String
    var eventTypes: [String]
    var groupID: String?
    var service: String?
    /// The location of `action`.
    var source: CatalogLocation
    /// The location of the consumer group name (or of the operation when it has none).
    var groupSource: CatalogLocation
}

/// Everything read from one file.
struct ParsedDocument {
    var document: CatalogDocument
    var channels: [ParsedChannel]
    var events: [EventSpec]
    var operations: [ParsedOperation]
}

/// Reads one converted AsyncAPI 3 document into channels, events and operations, recording every problem.
final class DocumentParser {
    private let reader: DocumentReader
    private let url: URL
    private let domain: String
    private var defaultContentType = "application/json"
    /// Which channel first used each message, by the message's pointer.
    private var messageOwners: [JSONPointer: String] = [:]
    private var events: [EventSpec] = []

    /// The problems found.
    var errors: [CatalogError] { reader.errors }

    init(reader: DocumentReader, url: URL, domain: String) {
        self.reader = reader
        self.url = url
        self.domain = domain
    }

    /// Parses the document.
    /// - Returns: What could be read, or `nil` when the document is not even a mapping with its header.
    func parse() -> ParsedDocument? {
        guard case .object = reader.root else {
            reader.error(
                .invalidDocument,
                at: .root,
                "a catalog document must be a mapping with 'asyncapi', 'info' and 'channels'"
            )
            return nil
        }
        let versionPointer = JSONPointer(tokens: ["asyncapi"])
        let asyncAPIVersion = reader.scalarText(versionPointer, required: true)
        if let asyncAPIVersion, !asyncAPIVersion.hasPrefix("3.") {
            reader.error(
                .invalidDocument,
                at: versionPointer,
                "Dabba reads AsyncAPI 3 documents, but this one declares asyncapi '\(asyncAPIVersion)'"
            )
        }
        let info = JSONPointer(tokens: ["info"])
        let hasInfo = reader.object(info, required: true) != nil
        let title = hasInfo ? reader.scalarText(info.appending("title"), required: true) : nil
        let version = hasInfo ? reader.scalarText(info.appending("version"), required: true) : nil
        if let contentType = reader.string(JSONPointer(tokens: ["defaultContentType"])) {
            defaultContentType = contentType
        }

        var channels: [ParsedChannel] = []
        let channelsPointer = JSONPointer(tokens: ["channels"])
        if let channelObject = reader.object(channelsPointer) {
            for id in channelObject.keys {
                if let channel = parseChannel(id: id) { channels.append(channel) }
            }
        }
        var operations: [ParsedOperation] = []
        if let operationObject = reader.object(JSONPointer(tokens: ["operations"])) {
            for id in operationObject.keys {
                if let operation = parseOperation(id: id, channels: channels) { operations.append(operation) }
            }
        }
        let document = CatalogDocument(
            url: url,
            path: reader.file,
            domain: domain,
            title: title ?? "",
            version: version ?? "",
            asyncAPIVersion: asyncAPIVersion ?? "",
            content: reader.root
        )
        return ParsedDocument(document: document, channels: channels, events: events, operations: operations)
    }

    // MARK: Channels

    private func parseChannel(id: String) -> ParsedChannel? {
        let pointer = JSONPointer(tokens: ["channels", id])
        guard reader.object(pointer, required: true) != nil else { return nil }

        let addressPointer = pointer.appending("address")
        let address = reader.string(addressPointer, required: true)
        var addressIsLegal = address != nil
        if let address, let problem = TopicSpec.nameProblem(address) {
            reader.error(.invalidTopicName, at: addressPointer, problem)
            addressIsLegal = false
        }
        let kafka = pointer.appending("bindings").appending("kafka")
        let partitions = reader.integer(
            kafka.appending("partitions"),
            required: true,
            minimum: 1,
            maximum: TopicSpec.maximumPartitions,
            code: .invalidPartitions
        )
        let replicas = reader.integer(
            kafka.appending("replicas"),
            required: true,
            minimum: 1,
            maximum: TopicSpec.maximumReplicas,
            code: .invalidReplicas
        )
        let configs = TopicConfiguration.read(kafka.appending("topicConfiguration"), reader: reader)
        let retryPointer = pointer.appending("x-dabba-retry")
        let retry = reader.exists(retryPointer) ? RetryPolicyParsing.read(retryPointer, reader: reader) : nil
        let channelContentMode = readContentMode(pointer) ?? .binary

        var topic: TopicSpec?
        if let address, addressIsLegal, let partitions, let replicas {
            topic = TopicSpec(
                name: address,
                partitions: partitions,
                replicas: replicas,
                configs: configs,
                channelID: id,
                kind: .main,
                source: reader.location(addressPointer)
            )
        }

        var messages: [ParsedChannel.Message] = []
        let messagesPointer = pointer.appending("messages")
        if let messageObject = reader.object(messagesPointer) {
            for key in messageObject.keys {
                let entry = messagesPointer.appending(key)
                guard
                    let target = reader.follow(
                        entry,
                        what: "message",
                        under: JSONPointer(tokens: ["components", "messages"])
                    )
                else { continue }
                if let owner = messageOwners[target] {
                    reader.error(
                        .duplicateEventType,
                        at: entry.appending("$ref"),
                        "message '\(target.tokens.last ?? key)' is already used by channel '\(owner)'; "
                            + "an event type belongs to exactly one topic"
                    )
                    continue
                }
                messageOwners[target] = id
                let eventType = parseMessage(
                    at: target, channelID: id, topic: address ?? "", channelContentMode: channelContentMode
                )
                messages.append(.init(key: key, target: target, eventType: eventType))
            }
        }
        return ParsedChannel(id: id, topic: topic, messages: messages, retry: retry)
    }

    // MARK: Messages

    /// Reads a message into an ``EventSpec``, appended to ``events``.
    /// - Returns: The event type, when the message has a name (even if its schema has problems).
    private func parseMessage(
        at pointer: JSONPointer, channelID: String, topic: String, channelContentMode: EventContentMode
    ) -> String? {
        guard reader.object(pointer, required: true) != nil else { return nil }
        let messageID = pointer.tokens.last ?? ""
        let namePointer = pointer.appending("name")
        let name = reader.string(namePointer, required: true)
        if reader.exists(pointer.appending("traits")) {
            reader.errorAtKey(
                .invalidDocument,
                at: pointer.appending("traits"),
                "message traits are not supported; write the fields on the message itself"
            )
        }
        let contentType = reader.string(pointer.appending("contentType")) ?? defaultContentType
        let versionPointer = pointer.appending("x-dabba-schema-version")
        let schemaVersion = reader.integer(versionPointer, minimum: 1) ?? 1
        var compatibility: CompatibilityMode?
        let compatibilityPointer = pointer.appending("x-dabba-compatibility")
        if let text = reader.string(compatibilityPointer) {
            compatibility = CompatibilityMode(rawValue: text)
            if compatibility == nil {
                reader.error(
                    .invalidDocument,
                    at: compatibilityPointer,
                    "x-dabba-compatibility must be one of backward, forward, full, none; not '\(text)'"
                )
            }
        }
        let subject = "payload schema of '\(name ?? messageID)'"
        let schemaPointer = payloadSchemaPointer(of: pointer, subject: subject)
        var schema: JSONSchema?
        if let schemaPointer {
            var visited: Set<JSONPointer> = []
            if SchemaChecks.checkReferences(at: schemaPointer, reader: reader, visited: &visited) {
                schema = SchemaChecks.compile(at: schemaPointer, reader: reader, subject: subject)
            }
        }
        let keyField = schemaPointer.flatMap { readKeyField(of: pointer, schema: $0) }
        let keyPointer = pointer.appending("bindings").appending("kafka").appending("key")
        let keySchema = reader.value(keyPointer)
        let keyDescription = reader.string(keyPointer.appending("description"))
        let examples = readExamples(of: pointer, eventType: name ?? messageID, schema: schema, keyField: keyField)

        guard let name else { return nil }
        guard let schema, let schemaPointer, let rawSchema = reader.value(schemaPointer) else { return name }
        events.append(
            EventSpec(
                type: name,
                messageID: messageID,
                schemaVersion: schemaVersion,
                contentType: contentType,
                topic: topic,
                channelID: channelID,
                payloadSchema: schema,
                rawPayloadSchema: rawSchema,
                schemaDocument: reader.root,
                payloadSchemaPointer: schemaPointer.description,
                keyField: keyField,
                keySchema: keySchema,
                keyDescription: keyDescription,
                namedExamples: examples,
                compatibility: compatibility,
                summary: reader.string(pointer.appending("summary")),
                contentMode: readContentMode(pointer) ?? channelContentMode,
                source: reader.location(namePointer)
            )
        )
        return name
    }

    /// Reads `x-dabba-content-mode` of a channel or message: nil when absent (or wrong, after reporting it).
    private func readContentMode(_ owner: JSONPointer) -> EventContentMode? {
        let modePointer = owner.appending("x-dabba-content-mode")
        guard let text = reader.string(modePointer) else { return nil }
        guard let mode = EventContentMode(rawValue: text) else {
            reader.error(
                .invalidDocument,
                at: modePointer,
                "x-dabba-content-mode must be binary or structured; not '\(text)'"
            )
            return nil
        }
        return mode
    }

    /// The pointer of the JSON Schema of a message's payload, unwrapping an AsyncAPI multi-format schema object.
    private func payloadSchemaPointer(of message: JSONPointer, subject: String) -> JSONPointer? {
        let payload = message.appending("payload")
        guard let object = reader.object(payload, required: true) else { return nil }
        guard let format = object["schemaFormat"] else { return payload }
        let accepted = ["application/schema+json", "application/schema+yaml", "application/vnd.aai.asyncapi"]
        guard case .string(let text) = format, accepted.contains(where: { text.hasPrefix($0) }) else {
            reader.error(
                .invalidSchema,
                at: payload.appending("schemaFormat"),
                "the \(subject) must be a JSON Schema; schemaFormat \(format.shortDescription) is not supported"
            )
            return nil
        }
        let schema = payload.appending("schema")
        guard reader.object(schema, required: true) != nil else { return nil }
        return schema
    }

    /// Reads `x-dabba-key` as a JSON Pointer and checks that the payload schema requires that field.
    private func readKeyField(of message: JSONPointer, schema: JSONPointer) -> String? {
        let keyPointer = message.appending("x-dabba-key")
        guard let text = reader.string(keyPointer, code: .invalidKey) else { return nil }
        let field: JSONPointer?
        if text.hasPrefix("/") {
            field = JSONPointer(text)
        } else if text.isEmpty || text.contains("/") {
            field = nil
        } else {
            field = JSONPointer(tokens: [text])
        }
        guard let field, !field.tokens.isEmpty else {
            reader.error(
                .invalidKey,
                at: keyPointer,
                "x-dabba-key must be a JSON Pointer such as '/orderId' or a top-level field name, not '\(text)'"
            )
            return nil
        }
        let status = SchemaChecks.fieldStatus(field, in: schema, root: reader.root)
        if !status.declared {
            reader.error(
                .invalidKey,
                at: keyPointer,
                "x-dabba-key '\(field)' is not a property of the payload schema"
            )
            return nil
        }
        if !status.required {
            reader.error(
                .invalidKey,
                at: keyPointer,
                "x-dabba-key '\(field)' must be a required property of the payload schema, "
                    + "so every event has a partition key"
            )
            return nil
        }
        return field.description
    }

    /// Reads and validates the message's examples.
    private func readExamples(of message: JSONPointer, eventType: String, schema: JSONSchema?, keyField: String?)
        -> [EventExample]
    {
        let examplesPointer = message.appending("examples")
        guard let items = reader.array(examplesPointer) else { return [] }
        var examples: [EventExample] = []
        for index in items.indices {
            let pointer = examplesPointer.appending(index)
            guard reader.object(pointer, required: true) != nil else { continue }
            let name = reader.string(pointer.appending("name")) ?? "example-\(index + 1)"
            let payloadPointer = pointer.appending("payload")
            guard let payload = reader.value(payloadPointer) else {
                reader.error(.invalidDocument, at: pointer, "example '\(name)' of '\(eventType)' has no payload")
                continue
            }
            let example = EventExample(
                name: name,
                summary: reader.string(pointer.appending("summary")),
                payload: payload,
                headers: reader.object(pointer.appending("headers")).map { JSONValue.object($0) }
            )
            examples.append(example)
            guard let schema else { continue }
            let violations = schema.validate(payload)
            for violation in violations {
                let instance = JSONPointer(violation.instancePath) ?? .root
                let at = payloadPointer.appending(instance)
                let location = reader.exists(at) ? reader.keyLocation(at) : reader.location(at)
                reader.error(
                    .exampleViolatesSchema,
                    at: location,
                    "example '\(name)' of '\(eventType)' violates its schema: \(violation.message) "
                        + "(keyword '\(violation.keyword)' at \(violation.schemaPath))"
                )
            }
            if violations.isEmpty, let keyField {
                checkKey(of: example, keyField: keyField, eventType: eventType, at: payloadPointer)
            }
        }
        return examples
    }

    private func checkKey(of example: EventExample, keyField: String, eventType: String, at payload: JSONPointer) {
        guard let field = JSONPointer(keyField) else { return }
        switch example.payload.resolve(field) {
        case .string?, .integer?, .double?, .bool?:
            return
        case nil, .null?:
            reader.error(
                .invalidKey,
                at: payload,
                "example '\(example.name)' of '\(eventType)' has no partition key at '\(keyField)'"
            )
        case .array?, .object?:
            reader.error(
                .invalidKey,
                at: payload.appending(field),
                "the partition key '\(keyField)' of '\(eventType)' must be a scalar, "
                    + "but example '\(example.name)' has an object or a sequence there"
            )
        }
    }

    // MARK: Operations

    private func parseOperation(id: String, channels: [ParsedChannel]) -> ParsedOperation? {
        let pointer = JSONPointer(tokens: ["operations", id])
        guard reader.object(pointer, required: true) != nil else { return nil }
        let actionPointer = pointer.appending("action")
        let actionText = reader.string(actionPointer, required: true)
        let action = actionText.flatMap(ParsedOperation.Action.init(rawValue:))
        if let actionText, action == nil {
            reader.error(
                .invalidDocument,
                at: actionPointer,
                "operation action must be 'send' or 'receive', not '\(actionText)'"
            )
        }
        let service = reader.string(pointer.appending("x-dabba-service"))

        let channelPointer = pointer.appending("channel")
        guard reader.object(channelPointer, required: true) != nil,
            let target = reader.follow(channelPointer, what: "channel", under: JSONPointer(tokens: ["channels"]))
        else { return nil }
        guard target != channelPointer, let channelID = target.tokens.last else {
            reader.error(
                .invalidDocument,
                at: channelPointer,
                "an operation's channel must be a reference such as {$ref: '#/channels/<id>'}"
            )
            return nil
        }
        guard let channel = channels.first(where: { $0.id == channelID }) else { return nil }

        let eventTypes = operationEventTypes(pointer.appending("messages"), channel: channel)
        var groupID: String?
        var groupSource = reader.location(actionPointer)
        if action == .receive {
            let groupPointer = pointer.appending("bindings").appending("kafka").appending("groupId")
            (groupID, groupSource) = readGroupID(groupPointer, operation: id, fallback: actionPointer)
        }
        guard let action, let topic = channel.topic else { return nil }
        return ParsedOperation(
            id: id,
            action: action,
            channelID: channelID,
            topic: topic.name,
            eventTypes: eventTypes,
            groupID: groupID,
            service: service,
            source: reader.location(actionPointer),
            groupSource: groupSource
        )
    }

    /// The event types an operation names in `messages`, or all of its channel's when it names none.
    private func operationEventTypes(_ pointer: JSONPointer, channel: ParsedChannel) -> [String] {
        guard let items = reader.array(pointer) else { return channel.messages.compactMap(\.eventType) }
        var types: [String] = []
        for index in items.indices {
            let itemPointer = pointer.appending(index)
            let referencePointer = itemPointer.appending("$ref")
            guard let text = reader.string(referencePointer, required: true) else { continue }
            guard let target = JSONPointer(reference: text), reader.value(target) != nil else {
                reader.error(.missingReference, at: referencePointer, "message '\(text)' does not exist")
                continue
            }
            let tokens = target.tokens
            let message: ParsedChannel.Message?
            if tokens.count == 4, tokens[0] == "channels", tokens[2] == "messages" {
                guard tokens[1] == channel.id else {
                    reader.error(
                        .invalidDocument,
                        at: referencePointer,
                        "'\(text)' belongs to channel '\(tokens[1])', not to this operation's channel "
                            + "'\(channel.id)'"
                    )
                    continue
                }
                message = channel.messages.first { $0.key == tokens[3] }
            } else {
                let resolved = reader.follow(itemPointer, what: "message") ?? target
                message = channel.messages.first { $0.target == resolved }
                if message == nil {
                    reader.error(
                        .invalidDocument,
                        at: referencePointer,
                        "'\(text)' is not one of the messages of channel '\(channel.id)'"
                    )
                    continue
                }
            }
            if let type = message?.eventType { types.append(type) }
        }
        return types
    }

    /// Reads a Kafka binding `groupId`: a schema with `const` or a one-value `enum` (a plain string is accepted).
    private func readGroupID(_ pointer: JSONPointer, operation: String, fallback: JSONPointer)
        -> (String?, CatalogLocation)
    {
        let missing =
            "receive operation '\(operation)' needs bindings.kafka.groupId "
            + "(a schema with a const, such as {type: string, const: my-group})"
        switch reader.value(pointer) {
        case .string(let group)?:
            return (validGroup(group, at: pointer), reader.location(pointer))
        case .object(let schema)?:
            if case .string(let group)? = schema["const"] {
                let at = pointer.appending("const")
                return (validGroup(group, at: at), reader.location(at))
            }
            if case .array(let values)? = schema["enum"], values.count == 1, case .string(let group) = values[0] {
                let at = pointer.appending("enum").appending(0)
                return (validGroup(group, at: at), reader.location(at))
            }
            let at = schema["enum"] != nil ? pointer.appending("enum") : pointer
            reader.error(
                .invalidConsumerGroup,
                at: at,
                "groupId of operation '\(operation)' must have a string 'const' or a one-value 'enum'"
            )
            return (nil, reader.location(pointer))
        case nil, .null?:
            reader.error(.invalidConsumerGroup, at: fallback, missing)
            return (nil, reader.location(fallback))
        case .some(let other):
            reader.error(
                .invalidConsumerGroup,
                at: pointer,
                "groupId of operation '\(operation)' must be a schema, not \(other.kindName)"
            )
            return (nil, reader.location(pointer))
        }
    }

    private func validGroup(_ group: String, at pointer: JSONPointer) -> String? {
        guard !group.isEmpty else {
            reader.error(.invalidConsumerGroup, at: pointer, "a consumer group id cannot be empty")
            return nil
        }
        return group
    }
}
