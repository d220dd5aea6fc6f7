// SPDX-License-Identifier: Apache-2.0
#include <hdf5/serial/hdf5.h>

// What Swift cannot import from <hdf5.h>: one constant each, no logic. The type constants are macros over
// globals that H5open() fills in (`#define H5T_NATIVE_FLOAT (H5OPEN H5T_NATIVE_FLOAT_g)`), the property and
// selection defaults are casts (`#define H5P_DEFAULT (hid_t)0`).

/// `H5P_DEFAULT`: the default property list.
static inline hid_t chdf5_p_default(void) { return H5P_DEFAULT; }
/// `H5P_FILE_ACCESS`: the class of file-access property lists (for `H5Pcreate`).
static inline hid_t chdf5_p_file_access(void) { return H5P_FILE_ACCESS; }
/// `H5S_ALL`: the whole dataspace.
static inline hid_t chdf5_s_all(void) { return H5S_ALL; }
/// `H5E_DEFAULT`: the default error stack.
static inline hid_t chdf5_e_default(void) { return H5E_DEFAULT; }
/// `H5T_NATIVE_FLOAT`: C `float`.
static inline hid_t chdf5_t_native_float(void) { return H5T_NATIVE_FLOAT; }
/// `H5T_NATIVE_DOUBLE`: C `double`.
static inline hid_t chdf5_t_native_double(void) { return H5T_NATIVE_DOUBLE; }
/// `H5T_C_S1`: a one-byte C string, the base of string memory types.
static inline hid_t chdf5_t_c_s1(void) { return H5T_C_S1; }
/// `H5T_VARIABLE`: the size that makes a string type variable-length.
static inline size_t chdf5_t_variable(void) { return H5T_VARIABLE; }
/// `H5F_ACC_RDONLY`: open a file read-only (the macro also checks the header against the library version).
static inline unsigned chdf5_f_acc_rdonly(void) { return H5F_ACC_RDONLY; }
