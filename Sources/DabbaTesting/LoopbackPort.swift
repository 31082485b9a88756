import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension TestHelpers {
    /// A loopback TCP port nobody listens on right now (the kernel's choice for port 0), for a server under test.
    ///
    /// Another process may take the port before the server binds it: when the server cannot bind, try a new one.
    /// - Returns: The port.
    /// - Throws: ``LoopbackPortError`` naming the socket call that failed and its errno.
    public static func freeLoopbackPort() throws -> Int {
        #if canImport(Glibc)
            let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let socketFD = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard socketFD >= 0 else { throw LoopbackPortError(call: "socket", errno: errno) }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw LoopbackPortError(call: "bind", errno: errno) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socketFD, $0, &length) }
        }
        guard named == 0 else { throw LoopbackPortError(call: "getsockname", errno: errno) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// No free loopback port could be found: a socket call failed.
public struct LoopbackPortError: Error, Sendable, CustomStringConvertible {
    /// The call that failed: `socket`, `bind` or `getsockname`.
    public var call: String
    /// Its errno.
    public var errno: Int32

    /// `bind() failed: errno 98 (Address already in use)`.
    public var description: String { "\(call)() failed: errno \(errno) (\(String(cString: strerror(errno))))" }
}
