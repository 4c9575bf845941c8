import COpenSSL

/// SHA-256 (OpenSSL), for the flash sale's proof-of-work answers.
public enum SHA256 {
    public static func digest(_ message: some Collection<UInt8>) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        let bytes = Array(message)
        let ok = bytes.withUnsafeBufferPointer { EVP_Digest($0.baseAddress, $0.count, &out, nil, EVP_sha256(), nil) }
        // EVP_Digest fails only on allocation failure: no digest is better than a wrong one.
        precondition(ok == 1, "SHA-256 failed")
        return out
    }

    /// How many leading bits of `digest` are zero.
    public static func leadingZeroBits(_ digest: [UInt8]) -> Int {
        var bits = 0
        for byte in digest {
            if byte == 0 { bits += 8; continue }
            return bits + byte.leadingZeroBitCount
        }
        return bits
    }
}
