/// The outcome of one contract check of a service against the catalog.
public struct ContractFinding: Sendable, Hashable, Codable {
    /// What was checked. In JSON, a plain string (`RawRepresentable`'s coding).
    public struct Check: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        /// The name written in reports: `decode`, `encode`, `handler`, `catalog`, `sender`, `key` or `version`.
        public let rawValue: String
        /// Creates a check name (decoding reports from newer versions keeps unknown names).
        /// - Parameter rawValue: The name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// Every catalog example of a handled type decodes into the handler's Swift type.
        public static let decode = Check(rawValue: "decode")
        /// Every declared sample of an emitted type encodes to JSON valid against the catalog schema.
        public static let encode = Check(rawValue: "encode")
        /// Every event type the catalog routes to the service's group has a handler or an explicit ignore.
        public static let handler = Check(rawValue: "handler")
        /// A handled or emitted event type exists in the catalog.
        public static let catalog = Check(rawValue: "catalog")
        /// The service is a declared sender (`x-dabba-service` of a send operation) of what it emits.
        public static let sender = Check(rawValue: "sender")
        /// A sample's `partitionKey` equals the key the catalog's `x-dabba-key` reads from its payload.
        public static let key = Check(rawValue: "key")
        /// The Swift type's `schemaVersion` equals the catalog's `x-dabba-schema-version`.
        public static let version = Check(rawValue: "version")
        /// The name.
        public var description: String { rawValue }
    }

    /// How the service relates to the event type in this finding. In JSON, a plain string (`RawRepresentable`'s
    /// coding).
    public struct Role: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        /// `handles`, `emits`, `receives` or `ignores`.
        public let rawValue: String
        /// Creates a role.
        /// - Parameter rawValue: The name.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// The service has a handler for the type.
        public static let handles = Role(rawValue: "handles")
        /// The service declares samples of the type with `pipeline.emits`.
        public static let emits = Role(rawValue: "emits")
        /// The catalog routes the type to the service's consumer group.
        public static let receives = Role(rawValue: "receives")
        /// The service explicitly ignores the type.
        public static let ignores = Role(rawValue: "ignores")
        /// The name.
        public var description: String { rawValue }
    }

    /// What was checked.
    public var check: Check
    /// How the service relates to the event type.
    public var role: Role
    /// The event type.
    public var eventType: String
    /// Whether the check passed.
    public var passed: Bool
    /// The payload field concerned, as a JSON Pointer, when there is one.
    public var field: String?
    /// The rule that failed: a JSON Schema keyword (`type`, `required`, `additionalProperties`, …) or the check's
    /// own name.
    public var rule: String?
    /// What failed (or a note on a pass), without the field.
    public var message: String?

    /// Creates a finding.
    /// - Parameters:
    ///   - check: What was checked.
    ///   - role: How the service relates to the type.
    ///   - eventType: The event type.
    ///   - passed: Whether it passed.
    ///   - field: The field's JSON Pointer, if any.
    ///   - rule: The failed rule, if any.
    ///   - message: The explanation, if any.
    public init(
        check: Check, role: Role, eventType: String, passed: Bool, field: String? = nil, rule: String? = nil,
        message: String? = nil
    ) {
        self.check = check
        self.role = role
        self.eventType = eventType
        self.passed = passed
        self.field = field
        self.rule = rule
        self.message = message
    }

    /// The finding as one line naming the service, the event type, the field and the rule:
    /// `food-orders emits food.order.confirmed: /total: expected number, got string (type)`.
    /// - Parameter service: The name to print for the service (the executable's, in `dabba contract verify`).
    /// - Returns: The line.
    public func line(service: String) -> String {
        var text = "\(service) \(role) \(eventType)"
        if let field { text += ": \(field.isEmpty ? "/" : field)" }
        if let message { text += ": \(message)" }
        if let rule { text += " (\(rule))" }
        return text
    }
}

/// A service's contract with the catalog: what it handles, ignores and emits, and every check's outcome.
///
/// `PipelineService.run` prints it as one JSON object when started with `--contract-report`; `dabba contract
/// verify` collects one per service.
public struct ContractReport: Sendable, Hashable, Codable {
    /// The pipeline's service name.
    public var service: String
    /// The pipeline's consumer group.
    public var groupID: String
    /// The event types with a handler, sorted.
    public var handles: [String]
    /// The explicitly ignored event types with their reasons.
    public var ignores: [String: String]
    /// The event types declared with `pipeline.emits`, sorted, without duplicates.
    public var emits: [String]
    /// The event types the catalog routes to the group, sorted.
    public var receives: [String]
    /// Every check's outcome, in check order.
    public var findings: [ContractFinding]

    /// Creates a report.
    /// - Parameters:
    ///   - service: The service name.
    ///   - groupID: The consumer group.
    ///   - handles: The handled types.
    ///   - ignores: The ignored types and reasons.
    ///   - emits: The emitted types.
    ///   - receives: The types the catalog routes to the group.
    ///   - findings: The outcomes.
    public init(
        service: String, groupID: String, handles: [String], ignores: [String: String], emits: [String],
        receives: [String], findings: [ContractFinding]
    ) {
        self.service = service
        self.groupID = groupID
        self.handles = handles
        self.ignores = ignores
        self.emits = emits
        self.receives = receives
        self.findings = findings
    }

    /// Whether every check passed.
    public var passed: Bool { findings.allSatisfy(\.passed) }

    /// The failed checks.
    public var failures: [ContractFinding] { findings.filter { !$0.passed } }
}
