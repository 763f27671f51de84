import CNetfilter
import Glibc

// Owner types for libnftnl objects: each frees its handle in `deinit`, and the two APIs that take
// ownership (nftnl_rule_add_expr, nftnl_set_elem_add) receive a handle released from its owner
// (`consuming`, then discarded without being freed).

/// Owns a `struct nftnl_rule` and, through it, every expression added.
typealias NftnlRule = NftnlObject<nftnl_rule_attr>
/// Owns a `struct nftnl_set` and, through it, every element added.
typealias NftnlSet = NftnlObject<nftnl_set_attr>
/// Owns a `struct nftnl_chain`.
typealias NftnlChain = NftnlObject<nftnl_chain_attr>
/// Owns a `struct nftnl_table`.
typealias NftnlTable = NftnlObject<nftnl_table_attr>

/// Owns a `struct nftnl_expr` until a rule takes it (`NftnlRule.add`).
struct NftnlExpr: ~Copyable {
    let raw: OpaquePointer

    /// nftnl_expr_alloc(name): `payload`, `meta`, `cmp`, `lookup`, ...
    init(_ name: String) throws(KernelError) {
        guard let raw = nftnl_expr_alloc(name) else {
            throw KernelError("nftnl_expr_alloc", subject: name, errno: ENOMEM)
        }
        self.raw = raw
    }

    /// Hands the handle over to whoever now frees it.
    consuming func release() -> OpaquePointer {
        let handle = raw
        discard self
        return handle
    }

    deinit { nftnl_expr_free(raw) }

    func set(_ attribute: Int, u32 value: UInt32) { nftnl_expr_set_u32(raw, UInt16(attribute), value) }

    func set(_ attribute: Int, u8 value: UInt8) { nftnl_expr_set_u8(raw, UInt16(attribute), value) }

    func set(_ attribute: Int, string: String) { _ = nftnl_expr_set_str(raw, UInt16(attribute), string) }

    /// Raw data (compared values, masks): copied by libnftnl.
    func set(_ attribute: Int, bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = nftnl_expr_set(raw, UInt16(attribute), $0.baseAddress, UInt32($0.count)) }
    }
}

extension NftnlRule {
    /// nftnl_rule_add_expr: the rule owns the expression from now on.
    func add(_ expr: consuming NftnlExpr) { nftnl_rule_add_expr(raw, expr.release()) }
}

extension nftnl_rule_attr: NftnlAttribute {
    static let kind = NftnlKind<Self>(
        name: "rule", alloc: nftnl_rule_alloc, free: nftnl_rule_free, setString: nftnl_rule_set_str, setU32: nftnl_rule_set_u32,
        setData: nftnl_rule_set_data, getU32: nftnl_rule_get_u32, family: NFTNL_RULE_FAMILY, payload: nftnl_rule_nlmsg_build_payload)
}

/// Owns a `struct nftnl_set_elem` until a set takes it (`NftnlSet.add`).
struct NftnlSetElem: ~Copyable {
    let raw: OpaquePointer

    /// An element with `key` (network-order bytes) and element flags (NFT_SET_ELEM_INTERVAL_END).
    init(key: [UInt8], flags: UInt32 = 0) throws(KernelError) {
        guard let raw = nftnl_set_elem_alloc() else { throw KernelError("nftnl_set_elem_alloc", errno: ENOMEM) }
        self.raw = raw
        key.withUnsafeBytes {
            _ = nftnl_set_elem_set(raw, UInt16(NFTNL_SET_ELEM_KEY), $0.baseAddress, UInt32($0.count))
        }
        if flags != 0 { nftnl_set_elem_set_u32(raw, UInt16(NFTNL_SET_ELEM_FLAGS), flags) }
    }

    /// An element with its key, flags, inclusive end (NFTNL_SET_ELEM_KEY_END, boxes of a
    /// concatenated interval set) and verdict (NFTNL_SET_ELEM_VERDICT and _CHAIN, verdict maps).
    init(_ element: KernelSetElement) throws(KernelError) {
        try self.init(key: element.key, flags: element.flags)
        if let end = element.keyEnd {
            end.withUnsafeBytes { _ = nftnl_set_elem_set(raw, UInt16(NFTNL_SET_ELEM_KEY_END), $0.baseAddress, UInt32($0.count)) }
        }
        if let verdict = element.verdict {
            nftnl_set_elem_set_u32(raw, UInt16(NFTNL_SET_ELEM_VERDICT), verdict)
            if let chain = element.chain { _ = nftnl_set_elem_set_str(raw, UInt16(NFTNL_SET_ELEM_CHAIN), chain) }
        }
        if let comment = element.comment { Self.attach(comment: comment, to: raw) }
    }

    /// NFTNL_SET_ELEM_USERDATA holding the TLV NFTNL_UDATA_SET_ELEM_COMMENT, as nft writes
    /// `comment "..."`. A comment is for humans: without memory for it the element goes without.
    private static func attach(comment: String, to raw: OpaquePointer) {
        guard let userData = try? NftnlUserData() else { return }
        guard userData.put(UInt8(NFTNL_UDATA_SET_ELEM_COMMENT.rawValue), string: comment) else { return }
        _ = userData.withBytes { _ = nftnl_set_elem_set(raw, UInt16(NFTNL_SET_ELEM_USERDATA), $0, $1) }
    }

    consuming func release() -> OpaquePointer {
        let handle = raw
        discard self
        return handle
    }

    deinit { nftnl_set_elem_free(raw) }
}

extension nftnl_set_attr: NftnlAttribute {
    static let kind = NftnlKind<Self>(
        name: "set", alloc: nftnl_set_alloc, free: nftnl_set_free, setString: nftnl_set_set_str, setU32: nftnl_set_set_u32,
        setData: nftnl_set_set_data, getU32: nftnl_set_get_u32, family: NFTNL_SET_FAMILY, payload: nftnl_set_nlmsg_build_payload)
}

extension NftnlSet {
    /// nftnl_set_elem_add: the set owns the element from now on (nftnl_set_free frees it).
    func add(_ element: KernelSetElement) throws(KernelError) { nftnl_set_elem_add(raw, try NftnlSetElem(element).release()) }
}

extension nftnl_chain_attr: NftnlAttribute {
    static let kind = NftnlKind<Self>(
        name: "chain", alloc: nftnl_chain_alloc, free: nftnl_chain_free, setString: nftnl_chain_set_str, setU32: nftnl_chain_set_u32,
        setData: nftnl_chain_set_data, getU32: nftnl_chain_get_u32, family: NFTNL_CHAIN_FAMILY, payload: nftnl_chain_nlmsg_build_payload)
}

extension NftnlChain {
    /// Signed attributes (the base chain priority): nftnl_chain_set_s32.
    func set(_ attribute: nftnl_chain_attr, s32 value: Int32) { nftnl_chain_set_s32(raw, UInt16(attribute.rawValue), value) }
}

extension nftnl_table_attr: NftnlAttribute {
    static let kind = NftnlKind<Self>(
        name: "table", alloc: nftnl_table_alloc, free: nftnl_table_free, setString: nftnl_table_set_str, setU32: nftnl_table_set_u32,
        setData: nftnl_table_set_data, getU32: nftnl_table_get_u32, family: NFTNL_TABLE_FAMILY, payload: nftnl_table_nlmsg_build_payload)
}

extension NftnlTable {
    /// A table named `name` in NFPROTO_* `family`.
    init(name: String, family: UInt32) throws(KernelError) {
        try self.init()
        set(NFTNL_TABLE_NAME, string: name)
        set(NFTNL_TABLE_FAMILY, u32: family)
    }
}

/// Owns a `struct nftnl_udata_buf`: the TLV user data nft keeps for comments and set key types.
struct NftnlUserData: ~Copyable {
    let raw: OpaquePointer

    init(capacity: UInt32 = 256) throws(KernelError) {
        guard let raw = nftnl_udata_buf_alloc(capacity) else {
            throw KernelError("nftnl_udata_buf_alloc", errno: ENOMEM)
        }
        self.raw = raw
    }

    deinit { nftnl_udata_buf_free(raw) }

    /// nftnl_udata_put_strz; false when it does not fit.
    func put(_ type: UInt8, string: String) -> Bool { nftnl_udata_put_strz(raw, type, string) }

    func put(_ type: UInt8, u32 value: UInt32) -> Bool { nftnl_udata_put_u32(raw, type, value) }

    /// The TLV bytes, valid while the buffer lives.
    func withBytes<T>(_ body: (UnsafeRawPointer, UInt32) -> T) -> T? {
        guard let data = nftnl_udata_buf_data(raw) else { return nil }
        return body(data, nftnl_udata_buf_len(raw))
    }
}
