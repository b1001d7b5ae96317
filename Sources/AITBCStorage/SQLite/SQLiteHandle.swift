import NIOCore
import SQLiteNIO
import VaporCSQLite

/// One SQLite connection over the C API that sqlite-nio vendors, with a bounded cache of prepared
/// statements. Not thread-safe by design: it is opened with `SQLITE_OPEN_NOMUTEX` and belongs to one
/// ``SQLiteWorker``, whose single thread is the only one that ever calls it.
///
/// - A statement is prepared once (`SQLITE_PREPARE_PERSISTENT`) and kept in a least-recently-used
///   cache of at most ``capacity`` statements; an evicted one is finalized.
/// - After every use (a row read, a failure, a body that throws) the statement is reset and its
///   bindings cleared, so it never holds a read transaction open or a stale value.
/// - Columns are read on every execution, not at prepare: SQLite re-prepares a statement by itself
///   when another connection changes the schema, and `SELECT *` may then return other columns.
final class SQLiteHandle: @unchecked Sendable {
    private let db: OpaquePointer
    /// The most prepared statements kept.
    let capacity: Int
    private var cache: [String: CachedStatement] = [:]
    private var tick: UInt64 = 0
    private var closed = false

    private final class CachedStatement {
        let raw: OpaquePointer
        var lastUsed: UInt64
        var inUse = false
        init(raw: OpaquePointer, lastUsed: UInt64) {
            self.raw = raw
            self.lastUsed = lastUsed
        }
    }

    private init(db: OpaquePointer, capacity: Int) {
        self.db = db
        self.capacity = capacity
    }

    /// Opens (creating if needed) the database file at `path`; nil opens a private in-memory database.
    static func open(path: String?, capacity: Int = 96) throws -> SQLiteHandle {
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        let rc = sqlite_nio_sqlite3_open_v2(path ?? ":memory:", &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "out of memory"
            if let db { sqlite_nio_sqlite3_close_v2(db) }
            throw SQLiteFailure(code: rc, message: message, sql: nil)
        }
        return SQLiteHandle(db: db, capacity: max(1, capacity))
    }

    deinit { close() }

    /// Finalizes every statement and closes the connection.
    func close() {
        guard !closed else { return }
        closed = true
        for statement in cache.values { sqlite_nio_sqlite3_finalize(statement.raw) }
        cache.removeAll()
        sqlite_nio_sqlite3_close_v2(db)
    }

    /// Whether no transaction is open on the connection.
    var isAutocommit: Bool { sqlite_nio_sqlite3_get_autocommit(db) != 0 }

    /// Statements in the cache now.
    var cachedStatements: Int { cache.count }

    /// Prepared statements of the connection (cached or not) that are mid-execution: stepped and not
    /// reset. Zero between uses.
    var busyStatements: Int {
        var count = 0
        var next = sqlite_nio_sqlite3_next_stmt(db, nil)
        while let statement = next {
            if sqlite_nio_sqlite3_stmt_busy(statement) != 0 { count += 1 }
            next = sqlite_nio_sqlite3_next_stmt(db, statement)
        }
        return count
    }

    /// Runs `sql` (one or more statements, no parameters, no rows wanted) without caching it:
    /// transaction control, pragmas, migrations.
    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let rc = sqlite_nio_sqlite3_exec(db, sql, nil, nil, &error)
        guard rc == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? String(cString: sqlite_nio_sqlite3_errmsg(db))
            sqlite_nio_sqlite3_free(error)
            throw SQLiteFailure(code: rc, message: message, sql: sql)
        }
    }

    /// Runs `body` with the prepared statement of `sql` (from the cache, or prepared and cached now),
    /// then resets it and clears its bindings, whatever `body` did.
    func withStatement<T>(_ sql: String, _ body: (SQLiteStatement) throws -> T) throws -> T {
        tick &+= 1
        if let cached = cache[sql], !cached.inUse {
            cached.lastUsed = tick
            cached.inUse = true
            defer {
                sqlite_nio_sqlite3_reset(cached.raw)
                sqlite_nio_sqlite3_clear_bindings(cached.raw)
                cached.inUse = false
            }
            return try body(SQLiteStatement(raw: cached.raw, handle: self, sql: sql))
        }
        // Not cached, or in use by a caller further up this thread's stack (a query run while
        // reading the rows of the same one): prepared now, and cached only if the slot is free.
        let raw = try prepare(sql)
        if cache[sql] == nil {
            evictIfFull()
            let cached = CachedStatement(raw: raw, lastUsed: tick)
            cached.inUse = true
            cache[sql] = cached
            defer {
                sqlite_nio_sqlite3_reset(raw)
                sqlite_nio_sqlite3_clear_bindings(raw)
                cached.inUse = false
            }
            return try body(SQLiteStatement(raw: raw, handle: self, sql: sql))
        }
        defer { sqlite_nio_sqlite3_finalize(raw) }
        return try body(SQLiteStatement(raw: raw, handle: self, sql: sql))
    }

    private func prepare(_ sql: String) throws -> OpaquePointer {
        var raw: OpaquePointer?
        let rc = sqlite_nio_sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &raw, nil)
        guard rc == SQLITE_OK, let raw else {
            if let raw { sqlite_nio_sqlite3_finalize(raw) }
            throw failure(rc, sql: sql)
        }
        return raw
    }

    /// Drops the least recently used statement not in use when the cache is full.
    private func evictIfFull() {
        guard cache.count >= capacity else { return }
        var oldest: (key: String, value: CachedStatement)?
        for entry in cache where !entry.value.inUse {
            if oldest == nil || entry.value.lastUsed < oldest!.value.lastUsed { oldest = entry }
        }
        guard let oldest else { return }
        cache.removeValue(forKey: oldest.key)
        sqlite_nio_sqlite3_finalize(oldest.value.raw)
    }

    func failure(_ rc: Int32, sql: String?) -> SQLiteFailure {
        SQLiteFailure(code: rc, message: String(cString: sqlite_nio_sqlite3_errmsg(db)), sql: sql)
    }

    // MARK: Rows as values (every path but the hottest)

    /// Runs `sql` with `binds` and returns every row.
    @discardableResult
    func query(_ sql: String, _ binds: [SQLiteData] = []) throws -> [SQLiteStoredRow] {
        var rows: [SQLiteStoredRow] = []
        try query(sql, binds) { rows.append($0) }
        return rows
    }

    /// Runs `sql` with `binds`, handing each row to `onRow` as it is read.
    func query(_ sql: String, _ binds: [SQLiteData], _ onRow: (SQLiteStoredRow) throws -> Void) throws {
        try withStatement(sql) { statement in
            try statement.bind(binds)
            var columns: SQLiteColumnNames?
            while try statement.step() {
                // Read on each execution: a re-prepared statement may have other columns.
                let names = columns ?? statement.columnNames()
                columns = names
                var values: [SQLiteData] = []
                values.reserveCapacity(names.names.count)
                for index in 0..<Int32(names.names.count) { values.append(statement.data(index)) }
                try onRow(SQLiteStoredRow(columns: names, values: values))
            }
        }
    }
}

/// A failure SQLite reported: its result code, its message and the statement.
struct SQLiteFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String
    let sql: String?

    var description: String {
        "SQLite error \(code): \(message)" + (sql.map { " (in \($0.prefix(200)))" } ?? "")
    }
}

/// A prepared statement of a ``SQLiteHandle`` during one use: typed binds and column reads by index
/// (the first parameter and the first column are 1 and 0, as in SQLite). Valid only inside the
/// `withStatement` body that gave it.
struct SQLiteStatement {
    let raw: OpaquePointer
    unowned let handle: SQLiteHandle
    let sql: String

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private func check(_ rc: Int32) throws {
        guard rc == SQLITE_OK else { throw handle.failure(rc, sql: sql) }
    }

    func bind(_ index: Int32, _ value: Int) throws {
        try check(sqlite_nio_sqlite3_bind_int64(raw, index, Int64(value)))
    }

    func bind(_ index: Int32, _ value: Int?) throws {
        guard let value else { return try bindNull(index) }
        try bind(index, value)
    }

    func bind(_ index: Int32, _ value: String) throws {
        var value = value
        let rc = value.withUTF8 {
            sqlite_nio_sqlite3_bind_text64(
                raw, index, UnsafeRawPointer($0.baseAddress!).assumingMemoryBound(to: CChar.self), UInt64($0.count),
                Self.transient, UInt8(SQLITE_UTF8))
        }
        try check(rc)
    }

    func bind(_ index: Int32, _ value: String?) throws {
        guard let value else { return try bindNull(index) }
        try bind(index, value)
    }

    func bind(_ index: Int32, bytes: [UInt8]) throws {
        let rc = bytes.withUnsafeBytes {
            sqlite_nio_sqlite3_bind_blob64(raw, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64($0.count), Self.transient)
        }
        try check(rc)
    }

    func bindNull(_ index: Int32) throws {
        try check(sqlite_nio_sqlite3_bind_null(raw, index))
    }

    func bind(_ index: Int32, _ value: SQLiteData) throws {
        switch value {
        case .integer(let value): try bind(index, value)
        case .float(let value): try check(sqlite_nio_sqlite3_bind_double(raw, index, value))
        case .text(let value): try bind(index, value)
        case .blob(let value):
            let rc = value.withUnsafeReadableBytes {
                sqlite_nio_sqlite3_bind_blob64(raw, index, $0.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64($0.count), Self.transient)
            }
            try check(rc)
        case .null: try bindNull(index)
        }
    }

    func bind(_ values: [SQLiteData]) throws {
        for (offset, value) in values.enumerated() { try bind(Int32(offset + 1), value) }
    }

    /// Steps once: true when a row is ready, false when the statement is done.
    func step() throws -> Bool {
        switch sqlite_nio_sqlite3_step(raw) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let rc: throw handle.failure(rc, sql: sql)
        }
    }

    /// Steps to the end, for a statement whose rows (if any) are not wanted.
    func run() throws {
        while try step() {}
    }

    var columnCount: Int32 { sqlite_nio_sqlite3_column_count(raw) }

    func columnNames() -> SQLiteColumnNames {
        SQLiteColumnNames(
            names: (0..<columnCount).map { index in
                sqlite_nio_sqlite3_column_name(raw, index).map { String(cString: $0) } ?? ""
            })
    }

    func isNull(_ column: Int32) -> Bool { sqlite_nio_sqlite3_column_type(raw, column) == SQLITE_NULL }

    func int(_ column: Int32) -> Int { Int(sqlite_nio_sqlite3_column_int64(raw, column)) }

    func optionalInt(_ column: Int32) -> Int? { isNull(column) ? nil : int(column) }

    func text(_ column: Int32) -> String? {
        guard let pointer = sqlite_nio_sqlite3_column_text(raw, column) else { return nil }
        let count = Int(sqlite_nio_sqlite3_column_bytes(raw, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    func bytes(_ column: Int32) -> [UInt8]? {
        guard sqlite_nio_sqlite3_column_type(raw, column) != SQLITE_NULL else { return nil }
        let count = Int(sqlite_nio_sqlite3_column_bytes(raw, column))
        guard count > 0, let pointer = sqlite_nio_sqlite3_column_blob(raw, column) else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The column as sqlite-nio would give it.
    func data(_ column: Int32) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(raw, column) {
        case SQLITE_INTEGER: return .integer(int(column))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(raw, column))
        case SQLITE_TEXT: return .text(text(column) ?? "")
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(raw, column))
            var buffer = ByteBufferAllocator().buffer(capacity: count)
            if count > 0, let pointer = sqlite_nio_sqlite3_column_blob(raw, column) {
                buffer.writeBytes(UnsafeRawBufferPointer(start: pointer, count: count))
            }
            return .blob(buffer)
        default: return .null
        }
    }
}

/// The column names of one execution of a statement, shared by its rows.
final class SQLiteColumnNames: Sendable {
    let names: [String]
    init(names: [String]) { self.names = names }

    func index(of name: String) -> Int? { names.firstIndex(of: name) }
}

/// One row read by ``SQLiteHandle/query(_:_:)``: its values, looked up by column name.
struct SQLiteStoredRow: Sendable {
    let columns: SQLiteColumnNames
    let values: [SQLiteData]

    /// The value of the first column called `name`, nil when there is none.
    func column(_ name: String) -> SQLiteData? {
        columns.index(of: name).map { values[$0] }
    }

    var isEmpty: Bool { values.isEmpty }
}
