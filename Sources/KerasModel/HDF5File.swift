// SPDX-License-Identifier: Apache-2.0

internal import CHDF5
import Synchronization

/// The serial HDF5 library (Debian `libhdf5-dev`, `hdf5_serial`) is not thread-safe: every call goes through
/// ``HDF5File/withLibrary(_:)``, which holds one process-wide lock. Only loading reads HDF5; prediction never does.
private let libraryLock = Mutex(())

/// An open HDF5 file, read-only: a file on disk (`H5Fopen`) or an image in memory (core driver, `H5Pset_file_image`).
/// All C calls of the module go through this file. Closed (`H5Fclose`) when the value goes away.
///
/// Calling contract: create and use it only inside ``withLibrary(_:)``.
final class HDF5File {
    private let id: hid_t

    /// Runs `body` holding the library lock; HDF5's own error printing to stderr is off (errors come back as
    /// negative ids and are reported by the caller with the file and object names).
    static func withLibrary<R, E: Error>(_ body: () throws(E) -> R) throws(E) -> R {
        try libraryLock.withLock { (_: inout Void) throws(E) -> R in
            // Per thread in a thread-safe build (Debian's is), so on every entry: the lock may run on any thread.
            H5Eset_auto2(chdf5_e_default(), nil, nil)
            return try body()
        }
    }

    /// Opens `path` read-only (`H5Fopen` with `H5F_ACC_RDONLY`); nil when HDF5 cannot (not HDF5, truncated, unreadable).
    init?(path: String) {
        let id = H5Fopen(path, chdf5_f_acc_rdonly(), chdf5_p_default())
        guard id >= 0 else { return nil }
        self.id = id
    }

    /// Opens a file image held in memory (`H5Pset_fapl_core` + `H5Pset_file_image`, which copies the bytes).
    /// `name` only labels the image: the core driver opens a file of that name on disk when one exists, so it
    /// gets a prefix no path has.
    init?(image: [UInt8], name: String) {
        let name = "memory-image:" + name
        let fapl = H5Pcreate(chdf5_p_file_access())
        guard fapl >= 0 else { return nil }
        defer { H5Pclose(fapl) }
        guard H5Pset_fapl_core(fapl, 64 * 1024, false) >= 0 else { return nil }
        let set = image.withUnsafeBytes { H5Pset_file_image(fapl, UnsafeMutableRawPointer(mutating: $0.baseAddress), $0.count) }
        guard set >= 0 else { return nil }
        let id = H5Fopen(name, chdf5_f_acc_rdonly(), fapl)
        guard id >= 0 else { return nil }
        self.id = id
    }

    deinit { H5Fclose(id) }

    /// True when `path` (relative to the root, `/`-separated) names a group or dataset (`H5Lexists` on each step).
    func exists(_ path: String) -> Bool {
        var prefix = ""
        for part in path.split(separator: "/") {
            prefix += prefix.isEmpty ? String(part) : "/" + part
            guard H5Lexists(id, prefix, chdf5_p_default()) > 0 else { return false }
        }
        return true
    }

    /// The strings of attribute `name` on the object at `path` ("/" for the root): a scalar gives one, an array
    /// gives each in order, an empty array (Keras writes `weight_names` of a layer without weights as an empty
    /// float array) gives none. Variable-length and fixed-length strings both work. Nil when the attribute is
    /// missing or not strings.
    func strings(attribute name: String, at path: String = "/") -> [String]? {
        guard H5Aexists_by_name(id, path, name, chdf5_p_default()) > 0 else { return nil }
        let attribute = H5Aopen_by_name(id, path, name, chdf5_p_default(), chdf5_p_default())
        guard attribute >= 0 else { return nil }
        defer { H5Aclose(attribute) }
        let fileType = H5Aget_type(attribute)
        let space = H5Aget_space(attribute)
        defer { H5Tclose(fileType); H5Sclose(space) }
        let count = Int(H5Sget_simple_extent_npoints(space))
        if count == 0 { return [] }
        guard H5Tget_class(fileType) == H5T_STRING else { return nil }
        let memoryType = H5Tcopy(chdf5_t_c_s1())
        defer { H5Tclose(memoryType) }
        H5Tset_cset(memoryType, H5Tget_cset(fileType))
        if H5Tis_variable_str(fileType) > 0 {
            H5Tset_size(memoryType, chdf5_t_variable())
            var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: count)
            guard H5Aread(attribute, memoryType, &pointers) >= 0 else { return nil }
            let result = pointers.map { $0.map { String(cString: $0) } ?? "" }
            H5Dvlen_reclaim(memoryType, space, chdf5_p_default(), &pointers)
            return result
        }
        let size = H5Tget_size(fileType)
        guard size > 0 else { return nil }
        H5Tset_size(memoryType, size)
        var bytes = [UInt8](repeating: 0, count: size * count)
        guard H5Aread(attribute, memoryType, &bytes) >= 0 else { return nil }
        return (0..<count).map { index in
            let slice = bytes[index * size..<(index + 1) * size]
            return String(decoding: slice.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// The dataset at `path` converted to float32 (`H5Dread` with `H5T_NATIVE_FLOAT`) with its shape; nil when
    /// it is missing or HDF5 cannot read it (a truncated file fails here).
    func floats(at path: String) -> (shape: [Int], values: [Float])? {
        let dataset = H5Dopen2(id, path, chdf5_p_default())
        guard dataset >= 0 else { return nil }
        defer { H5Dclose(dataset) }
        let space = H5Dget_space(dataset)
        guard space >= 0 else { return nil }
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard rank >= 0 else { return nil }
        var dims = [hsize_t](repeating: 0, count: rank)
        if rank > 0 { guard H5Sget_simple_extent_dims(space, &dims, nil) >= 0 else { return nil } }
        let shape = dims.map { Int($0) }
        var values = [Float](repeating: 0, count: shape.reduce(1, *))
        if !values.isEmpty {
            let read = values.withUnsafeMutableBytes {
                H5Dread(dataset, chdf5_t_native_float(), chdf5_s_all(), chdf5_s_all(), chdf5_p_default(), $0.baseAddress)
            }
            guard read >= 0 else { return nil }
        }
        return (shape, values)
    }
}
