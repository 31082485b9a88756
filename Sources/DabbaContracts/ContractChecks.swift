import DabbaCatalog
import DabbaEvents
import DabbaPipeline
import DabbaSchema
import Foundation

/// Checks a pipeline's Swift event types against the `Topics/` catalog, in-process and without Kafka.
///
/// - decode: every example payload the catalog gives for a handled event type decodes into the handler's Swift
///   type, in a whole record written in the event's content mode (`x-dabba-content-mode`) and read through the
///   runtime's decoder and codec;
/// - encode: every sample declared with ``Pipeline/emits(_:)`` encodes to JSON that validates against the
///   catalog's payload schema of its type;
/// - key: a sample's `partitionKey` is the key the catalog's `x-dabba-key` reads from the encoded payload;
/// - sender: the catalog has a send operation for each emitted type whose `x-dabba-service` is the pipeline's
///   service (or that names no service);
/// - catalog and version: every handled or emitted type exists in the catalog with the Swift type's schema version;
/// - handler: every event type the catalog routes to the pipeline's consumer group has a handler or an explicit
///   ``Pipeline/ignore(_:because:)``.
///
/// Call it from a unit test to fail a build before deploy:
///
/// ```swift
/// @Test func contract() throws {
///     let report = ContractChecks.check(makePipeline(), against: try Catalog.load(directory: topicsURL))
///     #expect(report.failures.map { $0.line(service: "orders") } == [])
/// }
/// ```
public enum ContractChecks {
    /// Runs every check.
    /// - Parameters:
    ///   - pipeline: The service's pipeline, with its handlers, ignores and emitted samples.
    ///   - catalog: The catalog.
    ///   - codec: The payload codec (JSON by default).
    /// - Returns: The report; ``ContractReport/passed`` tells whether the service honours the catalog.
    public static func check(
        _ pipeline: Pipeline, against catalog: Catalog, codec: any EventCodec = JSONEventCodec()
    ) -> ContractReport {
        var findings: [ContractFinding] = []
        findings += checkHandled(pipeline, catalog: catalog, codec: codec)
        findings += checkEmitted(pipeline, catalog: catalog, codec: codec)
        findings += checkRouted(pipeline, catalog: catalog)
        let receives = routedEventTypes(pipeline.groupID, catalog: catalog)
        let emitted = Set(pipeline.emittedSamples.map { type(of: $0).eventType })
        return ContractReport(
            service: pipeline.service, groupID: pipeline.groupID, handles: pipeline.handledEventTypes,
            ignores: pipeline.ignoredEventTypes, emits: emitted.sorted(), receives: receives, findings: findings
        )
    }

    /// The event types the catalog routes to a consumer group, sorted.
    static func routedEventTypes(_ groupID: String, catalog: Catalog) -> [String] {
        Set(catalog.consumerGroups.filter { $0.groupID == groupID }.flatMap(\.eventTypes)).sorted()
    }

    // MARK: - Handled types

    static func checkHandled(_ pipeline: Pipeline, catalog: Catalog, codec: any EventCodec) -> [ContractFinding] {
        var findings: [ContractFinding] = []
        let registry = pipeline.eventRegistry
        let decoder = EventDecoder(registry: registry, codecs: [codec])
        for eventType in pipeline.handledEventTypes {
            guard let spec = catalog.event(named: eventType) else {
                findings.append(
                    ContractFinding(
                        check: .catalog, role: .handles, eventType: eventType, passed: false, rule: "catalog",
                        message: "the catalog declares no such event type"
                    )
                )
                continue
            }
            if let version = registry.schemaVersion(of: eventType), version != spec.schemaVersion {
                findings.append(versionMismatch(.handles, eventType, swift: version, catalog: spec.schemaVersion))
            }
            if spec.namedExamples.isEmpty {
                findings.append(
                    ContractFinding(
                        check: .decode, role: .handles, eventType: eventType, passed: true,
                        message: "the catalog has no examples to decode"
                    )
                )
            }
            for example in spec.namedExamples {
                // The whole record, as a producer following the catalog writes it (in its content mode), read as the
                // runtime reads it.
                let payload = Array(example.payload.serialized(sortedKeys: true))
                switch decoder.decode(
                    payload: payload, eventType: eventType, version: spec.schemaVersion, contentType: codec.contentType,
                    contentMode: spec.contentMode
                ) {
                case .success:
                    findings.append(
                        ContractFinding(
                            check: .decode, role: .handles, eventType: eventType, passed: true,
                            message: "example '\(example.name)' decodes"
                                + (spec.contentMode == .binary ? "" : " (\(spec.contentMode.rawValue) mode)")
                        )
                    )
                case .failure(let error):
                    findings.append(
                        ContractFinding(
                            check: .decode, role: .handles, eventType: eventType, passed: false, rule: "decode",
                            message: "example '\(example.name)' does not decode: \(error.reason)"
                        )
                    )
                }
            }
        }
        return findings
    }

    // MARK: - Emitted types

    static func checkEmitted(_ pipeline: Pipeline, catalog: Catalog, codec: any EventCodec) -> [ContractFinding] {
        var findings: [ContractFinding] = []
        var samplesPerType: [String: Int] = [:]
        for sample in pipeline.emittedSamples { samplesPerType[type(of: sample).eventType, default: 0] += 1 }
        var checkedSender: Set<String> = []
        var seen: [String: Int] = [:]
        for sample in pipeline.emittedSamples {
            let eventType = type(of: sample).eventType
            seen[eventType, default: 0] += 1
            // "sample 2: " only when a type has several samples, so the common case reads cleanly.
            let label = (samplesPerType[eventType] ?? 0) > 1 ? "sample \(seen[eventType] ?? 1): " : ""
            guard let spec = catalog.event(named: eventType) else {
                if checkedSender.insert(eventType).inserted {
                    findings.append(
                        ContractFinding(
                            check: .catalog, role: .emits, eventType: eventType, passed: false, rule: "catalog",
                            message: "the catalog declares no such event type"
                        )
                    )
                }
                continue
            }
            if checkedSender.insert(eventType).inserted {
                findings.append(senderFinding(eventType, service: pipeline.service, catalog: catalog))
                let version = type(of: sample).schemaVersion
                if version != spec.schemaVersion {
                    findings.append(versionMismatch(.emits, eventType, swift: version, catalog: spec.schemaVersion))
                }
            }
            let payload: JSONValue
            do {
                payload = try JSONValue.parse(Data(try codec.encode(sample)))
            } catch {
                findings.append(
                    ContractFinding(
                        check: .encode, role: .emits, eventType: eventType, passed: false, rule: "encode",
                        message: "\(label)the sample does not encode to JSON: \(error)"
                    )
                )
                continue
            }
            let violations = spec.payloadSchema.validate(payload)
            if violations.isEmpty {
                findings.append(
                    ContractFinding(
                        check: .encode, role: .emits, eventType: eventType, passed: true,
                        message: "\(label)the sample is valid"
                    )
                )
            }
            for violation in violations {
                findings.append(
                    ContractFinding(
                        check: .encode, role: .emits, eventType: eventType, passed: false,
                        field: label.isEmpty ? violation.instancePath : nil, rule: violation.keyword,
                        message: label.isEmpty ? detail(of: violation) : "\(label)\(violation.message)"
                    )
                )
            }
            findings += keyFindings(sample, payload: payload, spec: spec, label: label)
        }
        return findings
    }

    static func keyFindings(_ sample: any Event, payload: JSONValue, spec: EventSpec, label: String)
        -> [ContractFinding]
    {
        guard let keyField = spec.keyField else { return [] }
        let catalogKey: String?
        do {
            catalogKey = try spec.partitionKey(for: payload)
        } catch {
            // The schema check above already reports a missing or malformed key field.
            return []
        }
        guard sample.partitionKey != catalogKey else { return [] }
        return [
            ContractFinding(
                check: .key, role: .emits, eventType: spec.type, passed: false, rule: "key",
                message:
                    "\(label)partitionKey is \(describe(sample.partitionKey)) but x-dabba-key \(keyField) gives \(describe(catalogKey))"
            )
        ]
    }

    static func senderFinding(_ eventType: String, service: String, catalog: Catalog) -> ContractFinding {
        let operations = catalog.producers.filter { $0.eventTypes.contains(eventType) }
        if operations.isEmpty {
            return ContractFinding(
                check: .sender, role: .emits, eventType: eventType, passed: false, rule: "sender",
                message: "the catalog has no send operation for it; declare one with x-dabba-service: \(service)"
            )
        }
        let named = operations.compactMap(\.service)
        if named.count < operations.count || named.contains(service) {
            return ContractFinding(check: .sender, role: .emits, eventType: eventType, passed: true)
        }
        return ContractFinding(
            check: .sender, role: .emits, eventType: eventType, passed: false, rule: "sender",
            message:
                "the catalog's send operations name x-dabba-service \(Set(named).sorted().joined(separator: ", ")), not \(service)"
        )
    }

    // MARK: - Routed types

    static func checkRouted(_ pipeline: Pipeline, catalog: Catalog) -> [ContractFinding] {
        let handled = Set(pipeline.handledEventTypes)
        let ignored = pipeline.ignoredEventTypes
        return routedEventTypes(pipeline.groupID, catalog: catalog).map { eventType in
            if handled.contains(eventType) {
                return ContractFinding(check: .handler, role: .receives, eventType: eventType, passed: true)
            }
            if let reason = ignored[eventType] {
                return ContractFinding(
                    check: .handler, role: .ignores, eventType: eventType, passed: true, message: reason
                )
            }
            return ContractFinding(
                check: .handler, role: .receives, eventType: eventType, passed: false, rule: "handler",
                message:
                    "the catalog routes it to group \(pipeline.groupID) but there is no handler and no pipeline.ignore"
            )
        }
    }

    // MARK: - Helpers

    static func versionMismatch(_ role: ContractFinding.Role, _ eventType: String, swift: Int, catalog: Int)
        -> ContractFinding
    {
        ContractFinding(
            check: .version, role: role, eventType: eventType, passed: false, rule: "version",
            message: "the Swift type has schemaVersion \(swift), the catalog's x-dabba-schema-version is \(catalog)"
        )
    }

    /// A violation's text without its leading instance path (the finding carries the path as its field).
    static func detail(of violation: SchemaViolation) -> String {
        let prefix = (violation.instancePath.isEmpty ? "/" : violation.instancePath) + ": "
        return violation.message.hasPrefix(prefix)
            ? String(violation.message.dropFirst(prefix.count)) : violation.message
    }

    static func describe(_ key: String?) -> String { key.map { "'\($0)'" } ?? "nil" }
}
