import AITBCWire
import NIOCore

extension JobView {
    /// This view as JSON, byte for byte what the wire encoder writes (keys sorted, `null`s kept):
    /// the answer of a submission, a read, a cancel and a miner's result, written without `JSONEncoder`.
    func jsonBuffer() -> ByteBuffer {
        var writer = JSONWriter(capacity: 320)
        writer.raw(#"{"assigned_miner_id":"#)
        writer.optionalString(assignedMinerID)
        writer.raw(#","error":"#)
        writer.optionalString(error)
        writer.raw(#","error_code":"#)
        writer.optionalString(errorCode)
        writer.raw(#","expires_at":"#)
        writer.date(expiresAt)
        writer.raw(#","finished_at":"#)
        writer.date(finishedAt)
        writer.raw(#","job_id":"#)
        writer.string(jobID)
        writer.raw(#","requested_at":"#)
        writer.date(requestedAt)
        writer.raw(#","started_at":"#)
        writer.date(startedAt)
        writer.raw(#","state":"#)
        writer.string(state)
        writer.raw(#","ttl_seconds":"#)
        writer.int(ttlSeconds)
        writer.raw("}")
        return writer.buffer
    }
}

extension AssignedJobView {
    /// This view as JSON, byte for byte what the wire encoder writes (keys sorted, `attempt` left
    /// out when nil, the payload's numbers as they came): a miner's poll answer.
    func jsonBuffer() -> ByteBuffer {
        var writer = JSONWriter(capacity: 256)
        writer.raw("{")
        if let attempt {
            writer.raw(#""attempt":"#)
            writer.int(attempt)
            writer.raw(",")
        }
        writer.raw(#""constraints":"#)
        writer.object(constraints)
        writer.raw(#","job_id":"#)
        writer.string(jobID)
        writer.raw(#","payload":"#)
        writer.value(payload)
        writer.raw("}")
        return writer.buffer
    }
}

extension JSONWriter {
    mutating func optionalString(_ value: String?) {
        if let value { string(value) } else { raw("null") }
    }
}
