import AITBCDomain
import AITBCWire
import Foundation
import Testing

/// Each transition of a job starts only from the states it names, changes what it owns, and holds
/// to the assignment it was checked against where it ends one.
@Suite struct JobTransitionTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)
    static let miner = MinerKey(tenantID: "t", minerID: "gpu-1")

    static func job(_ state: JobState, attempts: Int = 1) -> Job {
        Job(
            id: "job_1", tenantID: "t", clientKeyID: "key_c", payload: ["n": 1], constraints: nil, state: state,
            assignedMinerID: state == .running ? "gpu-1" : nil, ttlSeconds: 900, requestedAt: start,
            expiresAt: start.addingTimeInterval(900), startedAt: state == .running ? start : nil, attempts: attempts)
    }

    static let later = start.addingTimeInterval(30)

    static let all: [JobTransition] = [
        .assigned(to: miner, attempt: 2, at: later),
        .completed(result: "done", receipt: ["receipt_id": "rcpt_1"], metrics: ["ms": 5], at: later),
        .failed(JobFailure(code: "OOM", message: "out of memory"), metrics: nil, at: later),
        .canceled(at: later),
        .expired(at: later),
        .requeued,
    ]

    @Test(arguments: all)
    func aTransitionAppliesFromTheStatesItNamesAndFromNoOther(_ transition: JobTransition) {
        for state in JobState.allCases {
            let applied = transition.applied(to: Self.job(state))
            if transition.startStates.contains(state) {
                #expect(applied?.state == transition.endState, "\(transition) from \(state)")
            } else {
                #expect(applied == nil, "\(transition) from \(state)")
            }
        }
    }

    @Test func theStartStatesAreTheJobLifecycles() {
        #expect(JobTransition.assigned(to: Self.miner, attempt: 1, at: Self.later).startStates == [.queued])
        #expect(JobTransition.expired(at: Self.later).startStates == [.queued])
        #expect(JobTransition.canceled(at: Self.later).startStates == [.queued, .running])
        for transition in Self.all[1...2] + [.requeued] { #expect(transition.startStates == [.running]) }
    }

    @Test func anAssignmentIsTheJobsNextAttemptOnAMinerOfItsTenant() throws {
        let queued = Self.job(.queued, attempts: 1)
        let assigned = try #require(JobTransition.assigned(to: Self.miner, attempt: 2, at: Self.later).applied(to: queued))
        #expect(assigned.state == .running)
        #expect(assigned.assignedMinerID == "gpu-1")
        #expect(assigned.startedAt == Self.later)
        #expect(assigned.attempts == 2)
        // Any other attempt number, or a miner of another tenant, does not apply.
        #expect(JobTransition.assigned(to: Self.miner, attempt: 1, at: Self.later).applied(to: queued) == nil)
        #expect(JobTransition.assigned(to: Self.miner, attempt: 3, at: Self.later).applied(to: queued) == nil)
        let stranger = MinerKey(tenantID: "u", minerID: "gpu-1")
        #expect(JobTransition.assigned(to: stranger, attempt: 2, at: Self.later).applied(to: queued) == nil)
    }

    @Test func transitionsThatEndAnAssignmentHoldToItsAttemptAndTheOthersDoNot() {
        let running = Self.job(.running, attempts: 3)
        for transition in Self.all {
            switch transition {
            case .completed, .failed, .requeued: #expect(transition.requiredAttempt(of: running) == 3)
            case .assigned, .canceled, .expired: #expect(transition.requiredAttempt(of: running) == nil)
            }
        }
    }

    @Test func aCompletionOrAFailureRecordsWhatTheMinerReported() throws {
        let running = Self.job(.running)
        let completed = try #require(Self.all[1].applied(to: running))
        #expect(completed.result == "done")
        #expect(completed.receipt == ["receipt_id": "rcpt_1"])
        #expect(completed.metrics == ["ms": 5])
        #expect(completed.finishedAt == Self.later)
        #expect(completed.assignedMinerID == "gpu-1")
        let failed = try #require(Self.all[2].applied(to: running))
        #expect(failed.failure == JobFailure(code: "OOM", message: "out of memory"))
        #expect(failed.finishedAt == Self.later)
        #expect(failed.result == nil)
    }

    @Test func aRequeueTakesTheAssignmentBackButKeepsTheAttemptCount() throws {
        let requeued = try #require(JobTransition.requeued.applied(to: Self.job(.running, attempts: 2)))
        #expect(requeued.state == .queued)
        #expect(requeued.assignedMinerID == nil)
        #expect(requeued.startedAt == nil)
        #expect(requeued.attempts == 2)
        #expect(requeued.finishedAt == nil)
    }

    @Test func aCancellationOrAnExpiryOnlyEndsTheJob() throws {
        let canceled = try #require(JobTransition.canceled(at: Self.later).applied(to: Self.job(.running)))
        #expect(canceled.state == .canceled)
        #expect(canceled.finishedAt == Self.later)
        #expect(canceled.assignedMinerID == "gpu-1")
        let expired = try #require(JobTransition.expired(at: Self.later).applied(to: Self.job(.queued)))
        #expect(expired.state == .expired)
        #expect(expired.finishedAt == Self.later)
    }
}
