#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps a mock broker's port from being taken while librdkafka 2.0's mock cluster takes the broker down.
///
/// Taking a mock broker down closes its listening socket and binds a new one to the same port at once
/// (`rd_kafka_mock_broker_cmd`, `RD_KAFKA_MOCK_CMD_BROKER_SET_UPDOWN`), asserting that the bind succeeds. Between the
/// two the port is free unless a connection accepted on it still exists: a `connect()` anywhere on the machine may
/// then get it as its ephemeral port, the bind fails and the assertion aborts the whole process. A broker with no
/// client connected (a quiet test, a chaos demo between bursts) is exposed every time. The guard is such a
/// connection: opened and answered (so the broker has accepted it) just before the broker goes down, closed after.
final class BrokerPortGuard {
    private let descriptor: Int32
    /// Whether the broker answered: it has accepted the connection.
    let answered: Bool

    /// Connects to the broker on `port` and waits (up to `timeoutMilliseconds`) for its answer to an ApiVersions
    /// request, which proves the broker accepted the connection. Nil when the connection is refused: the broker is
    /// down already (its port is held by its idle listener) and there is nothing to guard. A connection that is not
    /// answered in time is kept all the same: accepted late, it still guards.
    init?(port: UInt16, timeoutMilliseconds: Int32 = 5_000) {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { return nil }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        // ApiVersions v0: size 10, api key 18, version 0, correlation id 1, null client id.
        let request: [UInt8] = [0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0xFF, 0xFF]
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
        self.descriptor = descriptor
        if request.withUnsafeBytes({ send(descriptor, $0.baseAddress, $0.count, Self.sendFlags) }) == request.count {
            answered = Self.waitReadable(descriptor, timeoutMilliseconds: timeoutMilliseconds)
        } else {
            answered = false
        }
    }

    deinit { close(descriptor) }

    #if canImport(Glibc)
    private static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    private static let sendFlags: Int32 = 0
    #endif

    private static func waitReadable(_ descriptor: Int32, timeoutMilliseconds: Int32) -> Bool {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        while true {
            let ready = poll(&entry, 1, timeoutMilliseconds)
            if ready < 0, errno == EINTR { continue }
            return ready == 1 && entry.revents & Int16(POLLIN) != 0
        }
    }

    /// The port of broker `brokerID` in a mock cluster's bootstrap list (`host:port,...`, brokers in id order).
    static func port(of brokerID: Int32, in bootstrapServers: String) -> UInt16? {
        let servers = bootstrapServers.split(separator: ",")
        guard brokerID >= 1, Int(brokerID) <= servers.count else { return nil }
        return servers[Int(brokerID) - 1].split(separator: ":").last.flatMap { UInt16($0) }
    }
}
