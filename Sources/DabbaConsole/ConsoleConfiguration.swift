import DabbaContracts
import DabbaKafka
import Foundation

/// One service's contract check, as the Contracts page shows it: its report, or why there is none.
public struct ConsoleContractResult: Sendable {
    /// The service executable.
    public var service: String
    /// Its report, or why it could not be had.
    public var report: Result<ContractReport, ConsoleError>

    /// Creates a result.
    public init(service: String, report: Result<ContractReport, ConsoleError>) {
        self.service = service
        self.report = report
    }
}

/// What `dabba ui` serves and from where: its address, the catalog, the cluster, the services' HTTP endpoints, and
/// whether write actions are allowed. Behaviour lives in ``Console``; this is only the settings.
public struct ConsoleConfiguration: Sendable {
    /// The address to listen on: `127.0.0.1` by default, so only this machine can reach the console.
    public var host: String
    /// The port; 0 picks a free one (see ``Console/boundPort()``).
    public var port: Int
    /// The catalog directory (`Topics/`).
    public var catalogDirectory: URL
    /// How to reach the cluster.
    public var client: ClientConfiguration
    /// The services' HTTP endpoints (`/ready`, `/health`, `/metrics`, `/flow`), by service name: one URL per
    /// instance.
    public var services: [String: [URL]]
    /// Whether write actions (produce, replay, offset reset) are enabled. Off by default: the console only reads.
    public var allowActions: Bool
    /// How often the console samples the cluster and the services for rates, lag trends and health.
    public var sampleInterval: Duration
    /// The most records a Messages or Dead letters page reads per partition.
    public var recordsPerPartition: Int
    /// How long a call to the cluster may take before the page says so.
    public var timeout: Duration
    /// Runs the services' contract checks for the Contracts page (`dabba ui` runs each service executable with
    /// `--contract-report`); nil: the page says how to get them.
    public var contractReports: (@Sendable () async -> [ConsoleContractResult])?

    /// Creates a configuration with the defaults: `127.0.0.1:8080`, read-only, samples every 2 s.
    public init(catalogDirectory: URL, client: ClientConfiguration) {
        host = "127.0.0.1"
        port = 8080
        self.catalogDirectory = catalogDirectory
        self.client = client
        services = [:]
        allowActions = false
        sampleInterval = .seconds(2)
        recordsPerPartition = 200
        timeout = .seconds(10)
        contractReports = nil
    }

    /// What is wrong with the settings, or nil.
    public var problem: String? {
        if !(0...65535).contains(port) { return "the port must be within 0…65535, not \(port)" }
        if sampleInterval <= .zero { return "the sample interval must be positive, not \(sampleInterval)" }
        if recordsPerPartition < 1 { return "records per partition must be 1 or more, not \(recordsPerPartition)" }
        if timeout <= .zero { return "the timeout must be positive, not \(timeout)" }
        for (name, urls) in services {
            for url in urls where url.scheme != "http" || url.host == nil {
                return "service \(name): \(url) is not an http:// URL with a host"
            }
        }
        return nil
    }
}

/// Why the console could not start or an action was refused.
public struct ConsoleError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// A setting is invalid (the message names it).
        public static let invalidConfiguration = Code(name: "invalidConfiguration")
        /// The catalog could not be loaded.
        public static let catalog = Code(name: "catalog")
        /// A write action was attempted without `--allow-actions`.
        public static let actionsDisabled = Code(name: "actionsDisabled")
        /// A form post without the console's CSRF token.
        public static let forbidden = Code(name: "forbidden")
        /// A form field is missing or invalid (the message names it).
        public static let badRequest = Code(name: "badRequest")
        /// What the page is about does not exist.
        public static let notFound = Code(name: "notFound")
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong, naming the setting, field or thing.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
