import NIOCore
import Testing

@testable import AITBCServer

/// The rules that decide when a connection is closed, driven with hand-made instants (no sleeping).
@Suite struct ConnectionDeadlinesTests {
    static let opened = NIODeadline.uptimeNanoseconds(1_000_000_000_000)

    static func at(_ seconds: Double) -> NIODeadline { opened + .nanoseconds(Int64(seconds * 1e9)) }

    static func make() -> ConnectionDeadlines {
        ConnectionDeadlines(openedAt: opened, readTimeout: .seconds(20), idleTimeout: .seconds(75))
    }

    @Test func aConnectionThatSendsNothingIsDueAtTheReadTimeoutOfItsOpening() {
        let deadlines = Self.make()
        #expect(deadlines.deadline?.at == Self.at(20))
        #expect(deadlines.deadline?.stall == .head)
    }

    @Test func bytesOfAnUnfinishedHeadDoNotMoveItsDeadline() {
        var deadlines = Self.make()
        for second in stride(from: 1.0, through: 19, by: 1) { deadlines.bytesArrived(at: Self.at(second)) }
        #expect(deadlines.deadline?.at == Self.at(20))
    }

    @Test func aRequestBeingAnsweredHasNoDeadlineHoweverLongItTakes() {
        var deadlines = Self.make()
        deadlines.bytesArrived(at: Self.at(1))
        deadlines.headArrived(at: Self.at(1))
        deadlines.requestEnded(at: Self.at(1))
        #expect(deadlines.deadline == nil)
        deadlines.responseEnded(at: Self.at(61))
        #expect(deadlines.deadline?.at == Self.at(136))
        #expect(deadlines.deadline?.stall == .idle)
    }

    @Test func theNextHeadOfAKeptAliveConnectionIsTimedFromItsFirstByte() {
        var deadlines = Self.make()
        deadlines.headArrived(at: Self.at(1))
        deadlines.requestEnded(at: Self.at(1))
        deadlines.responseEnded(at: Self.at(2))
        deadlines.bytesArrived(at: Self.at(50))
        #expect(deadlines.deadline?.at == Self.at(70))
        #expect(deadlines.deadline?.stall == .head)
        deadlines.bytesArrived(at: Self.at(60))
        #expect(deadlines.deadline?.at == Self.at(70))
    }

    @Test func aBodyMayPauseUpToTheReadTimeoutBetweenReads() {
        var deadlines = Self.make()
        deadlines.headArrived(at: Self.at(1))
        #expect(deadlines.deadline?.at == Self.at(21))
        deadlines.bodyArrived(at: Self.at(15))
        deadlines.bytesArrived(at: Self.at(30))
        #expect(deadlines.deadline?.at == Self.at(50))
        #expect(deadlines.deadline?.stall == .body)
    }

    @Test func aRequestAnsweredBeforeItsBodyEndedTurnsIdleWhenTheBodyHasBeenRead() {
        var deadlines = Self.make()
        deadlines.headArrived(at: Self.at(1))
        deadlines.responseEnded(at: Self.at(2))
        #expect(deadlines.deadline?.stall == .body)
        deadlines.requestEnded(at: Self.at(3))
        #expect(deadlines.deadline?.at == Self.at(78))
        #expect(deadlines.deadline?.stall == .idle)
    }

    @Test func aPipelinedHeadAwaitsTheAnswersBeforeIt() {
        var deadlines = Self.make()
        deadlines.headArrived(at: Self.at(1))
        deadlines.requestEnded(at: Self.at(1))
        deadlines.headArrived(at: Self.at(1))
        deadlines.requestEnded(at: Self.at(1))
        deadlines.responseEnded(at: Self.at(5))
        #expect(deadlines.deadline == nil)
        deadlines.responseEnded(at: Self.at(6))
        #expect(deadlines.deadline?.at == Self.at(81))
    }
}
