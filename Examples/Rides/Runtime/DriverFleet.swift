import DabbaEvents
import DabbaKafka
import DemoKit
import Foundation
import RidesDomain
import Synchronization

/// The drivers' phones of the demo and the tests: every driver reports its position every 2 s (every 0.2 s in a
/// GPS flood), wandering near its home zone; drivers can go off duty, and some phones send stale or malformed fixes.
public final class DriverFleet: Sendable {
    struct State {
        var positions: [String: GeoPoint] = [:]
        var offDuty: Set<String> = []
        var flood = false
        var random: SeededGenerator
        var reports = 0
    }

    private let state: Mutex<State>
    /// The typed producer.
    public let events: EventProducer
    /// The drivers.
    public let reference: RideReference
    /// The drivers reporting.
    public let drivers: [String]

    /// Creates the fleet, each driver at a point near its home zone.
    public init(events: EventProducer, reference: RideReference = .standard, drivers: Int? = nil, seed: UInt64 = 19) {
        self.events = events
        self.reference = reference
        self.drivers = Array(reference.drivers.prefix(drivers ?? reference.driverCount))
        var random = SeededGenerator(seed: seed)
        var positions: [String: GeoPoint] = [:]
        for driver in self.drivers {
            positions[driver] = RideLoad.near(reference.profile(of: driver).home.centre, within: 2.5, using: &random)
        }
        state = Mutex(State(positions: positions, random: random))
    }

    /// Reports sent.
    public var reports: Int { state.withLock { $0.reports } }

    /// Starts or ends a GPS flood (ten times the report rate).
    public func flood(_ on: Bool) { state.withLock { $0.flood = on } }

    /// Drivers go off duty (their next reports say so).
    public func takeOffDuty(_ drivers: [String]) { state.withLock { $0.offDuty.formUnion(drivers) } }

    /// One report from every driver, each a little further along its walk.
    public func reportAll() async throws {
        let reports = state.withLock { state -> [DriverLocationUpdated] in
            let now = Date()
            return drivers.map { driver in
                let profile = reference.profile(of: driver)
                var position = state.positions[driver] ?? profile.home.centre
                let step = RideLoad.near(position, within: 0.1, using: &state.random)
                if RideRules.distanceKm(step, profile.home.centre) <= 2.5 { position = step }
                state.positions[driver] = position
                return DriverLocationUpdated(
                    driverId: driver, vehicle: profile.vehicle, rating: profile.rating, position: position,
                    onDuty: !state.offDuty.contains(driver), reportedAt: now)
            }
        }
        for report in reports { _ = try await events.enqueue(report) }
        state.withLock { $0.reports += reports.count }
    }

    /// Reports until cancelled: every 2 s, or every 0.2 s during a flood.
    public func run() async {
        while !Task.isCancelled {
            do {
                try await reportAll()
                let interval: Duration = state.withLock { $0.flood } ? .milliseconds(200) : .seconds(2)
                try await Task.sleep(for: interval)
            } catch {
                if Task.isCancelled { return }
            }
        }
        try? await events.producer.flush(timeout: .seconds(60))
    }

    /// Phones whose clock or queue is behind: a fix a minute old, which dispatch must ignore.
    public func sendStale(_ count: Int) async throws {
        let reports = state.withLock { state in
            drivers.prefix(count).map { driver in
                let profile = reference.profile(of: driver)
                return DriverLocationUpdated(
                    driverId: driver, vehicle: profile.vehicle, rating: profile.rating,
                    position: profile.home.centre, onDuty: true, reportedAt: Date().addingTimeInterval(-60))
            }
        }
        for report in reports { _ = try await events.enqueue(report) }
        try await events.producer.flush(timeout: .seconds(60))
    }

    /// Fixes outside the service area (a broken GPS): dispatch dead-letters each. Returns their event ids.
    public func sendMalformed(_ count: Int) async throws -> Set<String> {
        var ids = Set<String>()
        for (index, driver) in drivers.suffix(count).enumerated() {
            let profile = reference.profile(of: driver)
            let id = "BADGPS\(index + 1)"
            _ = try await events.enqueue(
                DriverLocationUpdated(
                    driverId: driver, vehicle: profile.vehicle, rating: profile.rating,
                    position: GeoPoint(latitude: 0, longitude: 0), onDuty: true, reportedAt: Date()),
                metadata: EventMetadata(id: id))
            ids.insert(id)
        }
        try await events.producer.flush(timeout: .seconds(60))
        return ids
    }
}
