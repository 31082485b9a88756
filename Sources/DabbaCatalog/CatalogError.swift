/// A problem found while loading the catalog, pointing at the file, line and column that caused it.
///
/// Its ``description`` reads like a compiler diagnostic, for example
/// `Topics/food.asyncapi.yaml:42:7: duplicate event type 'food.order.placed' (first declared at
/// Topics/other.asyncapi.yaml:10:5)`. Loading collects every problem of a load before failing, and throws them
/// together as ``CatalogErrors``.
public struct CatalogError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem. A struct rather than an enum, so that new kinds can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A catalog file, or the catalog directory, does not exist or cannot be read.
        public static let fileNotFound = Code("fileNotFound")
        /// A file is not well-formed YAML (or repeats a key within one mapping).
        public static let yamlSyntax = Code("yamlSyntax")
        /// A file is YAML but not a valid Dabba AsyncAPI document: a missing or mistyped field.
        public static let invalidDocument = Code("invalidDocument")
        /// Two channels, in the same file or in different files, declare the same Kafka topic.
        public static let duplicateTopic = Code("duplicateTopic")
        /// Two messages declare the same event type (`name`), or one message is used on two channels.
        public static let duplicateEventType = Code("duplicateEventType")
        /// A `$ref` points at a message, channel, schema or other part of the document that does not exist.
        public static let missingReference = Code("missingReference")
        /// A channel's `bindings.kafka.partitions` (or a retry policy's `partitions`) is missing, not an integer,
        /// or less than 1.
        public static let invalidPartitions = Code("invalidPartitions")
        /// A channel's `bindings.kafka.replicas` (or a retry policy's `replicas`) is missing, not an integer,
        /// or less than 1.
        public static let invalidReplicas = Code("invalidReplicas")
        /// A message example does not validate against the message's own payload schema.
        public static let exampleViolatesSchema = Code("exampleViolatesSchema")
        /// A payload schema uses an unsupported keyword or is otherwise not a valid schema.
        public static let invalidSchema = Code("invalidSchema")
        /// A duration such as `30s` in a retry policy cannot be parsed.
        public static let invalidDuration = Code("invalidDuration")
        /// An `x-dabba-retry` policy is malformed (no delays, wrong types).
        public static let invalidRetryPolicy = Code("invalidRetryPolicy")
        /// The catalog directory holds no `*.asyncapi.yaml` or `*.asyncapi.yml` file.
        public static let noCatalogFiles = Code("noCatalogFiles")
        /// A channel address, or a retry or dead-letter topic derived from it, is not a legal Kafka topic name.
        public static let invalidTopicName = Code("invalidTopicName")
        /// A derived retry or dead-letter topic has the same name as a declared topic or another derived topic.
        public static let derivedTopicCollision = Code("derivedTopicCollision")
        /// A `bindings.kafka.topicConfiguration` (or `deadLetterConfiguration`) entry has an invalid value.
        public static let invalidTopicConfiguration = Code("invalidTopicConfiguration")
        /// An `x-dabba-key` is malformed, is not declared by the payload schema, or cannot be read from an example.
        public static let invalidKey = Code("invalidKey")
        /// A receive operation has no usable consumer group, or one group receives from the same topic twice.
        public static let invalidConsumerGroup = Code("invalidConsumerGroup")

        /// The code's name, for example `duplicateTopic`.
        public var description: String { name }
    }

    /// The kind of problem.
    public var code: Code
    /// The display path of the file the problem is in (see ``CatalogLocation/file``); empty when it concerns no file.
    public var file: String
    /// The line of the offending node, counting from 1; 0 when unknown.
    public var line: Int
    /// The column of the offending node, counting from 1; 0 when unknown.
    public var column: Int
    /// What is wrong, in words, naming the offending value.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - file: The display path of the file.
    ///   - line: The line, counting from 1, or 0 when unknown.
    ///   - column: The column, counting from 1, or 0 when unknown.
    ///   - message: What is wrong.
    public init(code: Code, file: String, line: Int, column: Int, message: String) {
        self.code = code
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    /// Creates an error at a source location.
    /// - Parameters:
    ///   - code: The kind of problem.
    ///   - location: Where the problem is.
    ///   - message: What is wrong.
    public init(code: Code, at location: CatalogLocation, message: String) {
        self.init(code: code, file: location.file, line: location.line, column: location.column, message: message)
    }

    /// The location of the problem.
    public var location: CatalogLocation { CatalogLocation(file: file, line: line, column: column) }

    /// `file:line:column: message`, or `file: message` when the line is unknown.
    public var description: String {
        if file.isEmpty { return message }
        if line <= 0 { return "\(file): \(message)" }
        return "\(file):\(line):\(column): \(message)"
    }
}

/// Every problem found by one load of the catalog, in file order and then line order.
///
/// ``Catalog/load(directory:relativeTo:)`` and the other loaders throw this, never a bare ``CatalogError``,
/// so a command-line tool can print all problems at once:
///
/// ```swift
/// do {
///     let catalog = try Catalog.load(directory: URL(fileURLWithPath: "Topics"))
/// } catch let failure as CatalogErrors {
///     for error in failure.errors { print(error) }
/// }
/// ```
public struct CatalogErrors: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems, at least one, sorted by file and position.
    public var errors: [CatalogError]

    /// Creates the collection.
    /// - Parameter errors: The problems found.
    public init(_ errors: [CatalogError]) {
        self.errors = errors
    }

    /// One problem per line, each as `file:line:column: message`.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }

    /// The problems with the given code.
    /// - Parameter code: The kind of problem to keep.
    /// - Returns: The matching problems, in order.
    public func errors(withCode code: CatalogError.Code) -> [CatalogError] {
        errors.filter { $0.code == code }
    }
}
