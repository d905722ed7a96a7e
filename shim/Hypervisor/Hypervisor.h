/*
 * shim/Hypervisor/Hypervisor.h — NOT Apple's SDK.
 *
 * Declarations of the arm64 Hypervisor.framework API, exactly the subset
 * that our patched QEMU files (accel/hvf/hvf-*.c, target/arm/hvf/hvf.c,
 * include/system/hvf_int.h) use, written by us from Apple's documentation
 * (developer.apple.com/documentation/hypervisor) for `make darwin`: it lets
 * clang check those files for the arm64-apple-macos13 target on Linux.
 *
 * What this leaves unchecked: that these declarations match Apple's headers
 * in every detail (parameter nullability, OS_OBJECT types, availability of
 * anything but HV_SYS_REG_ACTLR_EL1), any behaviour of the framework, and
 * linking. Enumerator values follow Apple's documented values; the checked
 * code only needs them distinct (switch labels, tables).
 */
#ifndef EGPU_SHIM_HYPERVISOR_H
#define EGPU_SHIM_HYPERVISOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <AvailabilityMacros.h>
#include <os/object.h>

#if !defined(__aarch64__) && !defined(__arm64__)
#error "shim/Hypervisor declares the Apple silicon (arm64) API only"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* --- results (mach_error_t) ------------------------------------------- */
typedef int hv_return_t;
#define HV_SUCCESS      ((hv_return_t)0)
#define HV_ERROR        ((hv_return_t)0xfae94001)
#define HV_BUSY         ((hv_return_t)0xfae94002)
#define HV_BAD_ARGUMENT ((hv_return_t)0xfae94003)
#define HV_NO_RESOURCES ((hv_return_t)0xfae94005)
#define HV_NO_DEVICE    ((hv_return_t)0xfae94006)
#define HV_DENIED       ((hv_return_t)0xfae94007)
#define HV_UNSUPPORTED  ((hv_return_t)0xfae9400f)

/* --- VM and its stage-2 memory ---------------------------------------- */
typedef uint64_t hv_ipa_t;
typedef uint64_t hv_memory_flags_t;
#define HV_MEMORY_READ  ((hv_memory_flags_t)1 << 0)
#define HV_MEMORY_WRITE ((hv_memory_flags_t)1 << 1)
#define HV_MEMORY_EXEC  ((hv_memory_flags_t)1 << 2)

typedef struct hv_vm_config_s *hv_vm_config_t;
hv_vm_config_t hv_vm_config_create(void);
hv_return_t hv_vm_config_get_default_ipa_size(uint32_t *ipa_bit_length);
hv_return_t hv_vm_config_get_max_ipa_size(uint32_t *ipa_bit_length);
hv_return_t hv_vm_config_set_ipa_size(hv_vm_config_t config,
                                      uint32_t ipa_bit_length);
hv_return_t hv_vm_create(hv_vm_config_t config);
hv_return_t hv_vm_map(void *addr, hv_ipa_t ipa, size_t size,
                      hv_memory_flags_t flags);
hv_return_t hv_vm_unmap(hv_ipa_t ipa, size_t size);
hv_return_t hv_vm_protect(hv_ipa_t ipa, size_t size, hv_memory_flags_t flags);

/* --- vCPUs ------------------------------------------------------------- */
typedef uint64_t hv_vcpu_t;
typedef struct hv_vcpu_config_s *hv_vcpu_config_t;

typedef uint32_t hv_exit_reason_t;
enum {
    HV_EXIT_REASON_CANCELED = 0,
    HV_EXIT_REASON_EXCEPTION = 1,
    HV_EXIT_REASON_VTIMER_ACTIVATED = 2,
};

typedef struct {
    uint64_t syndrome;           /* ESR_EL2 of the exit */
    uint64_t virtual_address;    /* FAR_EL2 */
    hv_ipa_t physical_address;   /* faulting IPA */
} hv_vcpu_exit_exception_t;

typedef struct {
    hv_exit_reason_t reason;
    hv_vcpu_exit_exception_t exception;
} hv_vcpu_exit_t;

typedef uint32_t hv_feature_reg_t;
enum {
    HV_FEATURE_REG_ID_AA64DFR0_EL1 = 0,
};

typedef uint32_t hv_interrupt_type_t;
enum {
    HV_INTERRUPT_TYPE_IRQ = 0,
    HV_INTERRUPT_TYPE_FIQ = 1,
};

/* X0..X30 are 0..30, then PC, FPCR, FPSR, CPSR */
typedef uint32_t hv_reg_t;
enum {
    HV_REG_X0, HV_REG_X1, HV_REG_X2, HV_REG_X3, HV_REG_X4, HV_REG_X5,
    HV_REG_X6, HV_REG_X7, HV_REG_X8, HV_REG_X9, HV_REG_X10, HV_REG_X11,
    HV_REG_X12, HV_REG_X13, HV_REG_X14, HV_REG_X15, HV_REG_X16, HV_REG_X17,
    HV_REG_X18, HV_REG_X19, HV_REG_X20, HV_REG_X21, HV_REG_X22, HV_REG_X23,
    HV_REG_X24, HV_REG_X25, HV_REG_X26, HV_REG_X27, HV_REG_X28, HV_REG_X29,
    HV_REG_X30, HV_REG_PC, HV_REG_FPCR, HV_REG_FPSR, HV_REG_CPSR,
};

typedef uint32_t hv_simd_fp_reg_t;
enum {
    HV_SIMD_FP_REG_Q0, HV_SIMD_FP_REG_Q1, HV_SIMD_FP_REG_Q2,
    HV_SIMD_FP_REG_Q3, HV_SIMD_FP_REG_Q4, HV_SIMD_FP_REG_Q5,
    HV_SIMD_FP_REG_Q6, HV_SIMD_FP_REG_Q7, HV_SIMD_FP_REG_Q8,
    HV_SIMD_FP_REG_Q9, HV_SIMD_FP_REG_Q10, HV_SIMD_FP_REG_Q11,
    HV_SIMD_FP_REG_Q12, HV_SIMD_FP_REG_Q13, HV_SIMD_FP_REG_Q14,
    HV_SIMD_FP_REG_Q15, HV_SIMD_FP_REG_Q16, HV_SIMD_FP_REG_Q17,
    HV_SIMD_FP_REG_Q18, HV_SIMD_FP_REG_Q19, HV_SIMD_FP_REG_Q20,
    HV_SIMD_FP_REG_Q21, HV_SIMD_FP_REG_Q22, HV_SIMD_FP_REG_Q23,
    HV_SIMD_FP_REG_Q24, HV_SIMD_FP_REG_Q25, HV_SIMD_FP_REG_Q26,
    HV_SIMD_FP_REG_Q27, HV_SIMD_FP_REG_Q28, HV_SIMD_FP_REG_Q29,
    HV_SIMD_FP_REG_Q30, HV_SIMD_FP_REG_Q31,
};
typedef __attribute__((ext_vector_type(16))) uint8_t hv_simd_fp_uchar16_t;

/*
 * System registers: the value is the MRS encoding
 * op0 << 14 | op1 << 11 | CRn << 7 | CRm << 3 | op2.
 */
typedef uint16_t hv_sys_reg_t;
#define SHIM_HV_DBG(n) \
    HV_SYS_REG_DBGBVR##n##_EL1 = 0x8004 + 8 * (n), \
    HV_SYS_REG_DBGBCR##n##_EL1 = 0x8005 + 8 * (n), \
    HV_SYS_REG_DBGWVR##n##_EL1 = 0x8006 + 8 * (n), \
    HV_SYS_REG_DBGWCR##n##_EL1 = 0x8007 + 8 * (n)
enum {
    SHIM_HV_DBG(0), SHIM_HV_DBG(1), SHIM_HV_DBG(2), SHIM_HV_DBG(3),
    SHIM_HV_DBG(4), SHIM_HV_DBG(5), SHIM_HV_DBG(6), SHIM_HV_DBG(7),
    SHIM_HV_DBG(8), SHIM_HV_DBG(9), SHIM_HV_DBG(10), SHIM_HV_DBG(11),
    SHIM_HV_DBG(12), SHIM_HV_DBG(13), SHIM_HV_DBG(14), SHIM_HV_DBG(15),
    HV_SYS_REG_MDCCINT_EL1 = 0x8010,
    HV_SYS_REG_MDSCR_EL1 = 0x8012,
    HV_SYS_REG_MIDR_EL1 = 0xc000,
    HV_SYS_REG_MPIDR_EL1 = 0xc005,
    HV_SYS_REG_ID_AA64PFR0_EL1 = 0xc020,
    HV_SYS_REG_ID_AA64PFR1_EL1 = 0xc021,
    HV_SYS_REG_ID_AA64DFR0_EL1 = 0xc028,
    HV_SYS_REG_ID_AA64DFR1_EL1 = 0xc029,
    HV_SYS_REG_ID_AA64ISAR0_EL1 = 0xc030,
    HV_SYS_REG_ID_AA64ISAR1_EL1 = 0xc031,
    HV_SYS_REG_ID_AA64MMFR0_EL1 = 0xc038,
    HV_SYS_REG_ID_AA64MMFR1_EL1 = 0xc039,
    HV_SYS_REG_ID_AA64MMFR2_EL1 = 0xc03a,
    HV_SYS_REG_SCTLR_EL1 = 0xc080,
#if EGPU_SHIM_MACOS_SDK >= 150000
    /*
     * In the macOS 15 SDK and later; macOS 15.0+ at run time (Apple: only
     * bit 1, EnTSO, can be got and set). The availability attribute is the
     * point: with a macOS 13 deployment target, clang flags any use not
     * guarded by __builtin_available.
     */
    HV_SYS_REG_ACTLR_EL1
        __attribute__((availability(macos, introduced = 15.0))) = 0xc081,
#endif
    HV_SYS_REG_CPACR_EL1 = 0xc082,
    HV_SYS_REG_TTBR0_EL1 = 0xc100,
    HV_SYS_REG_TTBR1_EL1 = 0xc101,
    HV_SYS_REG_TCR_EL1 = 0xc102,
    HV_SYS_REG_APIAKEYLO_EL1 = 0xc108,
    HV_SYS_REG_APIAKEYHI_EL1 = 0xc109,
    HV_SYS_REG_APIBKEYLO_EL1 = 0xc10a,
    HV_SYS_REG_APIBKEYHI_EL1 = 0xc10b,
    HV_SYS_REG_APDAKEYLO_EL1 = 0xc110,
    HV_SYS_REG_APDAKEYHI_EL1 = 0xc111,
    HV_SYS_REG_APDBKEYLO_EL1 = 0xc112,
    HV_SYS_REG_APDBKEYHI_EL1 = 0xc113,
    HV_SYS_REG_APGAKEYLO_EL1 = 0xc118,
    HV_SYS_REG_APGAKEYHI_EL1 = 0xc119,
    HV_SYS_REG_SPSR_EL1 = 0xc200,
    HV_SYS_REG_ELR_EL1 = 0xc201,
    HV_SYS_REG_SP_EL0 = 0xc208,
    HV_SYS_REG_AFSR0_EL1 = 0xc288,
    HV_SYS_REG_AFSR1_EL1 = 0xc289,
    HV_SYS_REG_ESR_EL1 = 0xc290,
    HV_SYS_REG_FAR_EL1 = 0xc300,
    HV_SYS_REG_PAR_EL1 = 0xc3a0,
    HV_SYS_REG_MAIR_EL1 = 0xc510,
    HV_SYS_REG_AMAIR_EL1 = 0xc518,
    HV_SYS_REG_VBAR_EL1 = 0xc600,
    HV_SYS_REG_CONTEXTIDR_EL1 = 0xc681,
    HV_SYS_REG_TPIDR_EL1 = 0xc684,
    HV_SYS_REG_CNTKCTL_EL1 = 0xc708,
    HV_SYS_REG_CSSELR_EL1 = 0xd000,
    HV_SYS_REG_TPIDR_EL0 = 0xde82,
    HV_SYS_REG_TPIDRRO_EL0 = 0xde83,
    HV_SYS_REG_CNTV_CTL_EL0 = 0xdf19,
    HV_SYS_REG_CNTV_CVAL_EL0 = 0xdf1a,
    HV_SYS_REG_SP_EL1 = 0xe208,
};
#undef SHIM_HV_DBG

hv_vcpu_config_t hv_vcpu_config_create(void);
hv_return_t hv_vcpu_config_get_feature_reg(hv_vcpu_config_t config,
                                           hv_feature_reg_t feature_reg,
                                           uint64_t *value);
hv_return_t hv_vcpu_create(hv_vcpu_t *vcpu, hv_vcpu_exit_t **exit,
                           hv_vcpu_config_t config);
hv_return_t hv_vcpu_destroy(hv_vcpu_t vcpu);
hv_return_t hv_vcpu_run(hv_vcpu_t vcpu);
hv_return_t hv_vcpus_exit(hv_vcpu_t *vcpus, uint32_t vcpu_count);
hv_return_t hv_vcpu_get_reg(hv_vcpu_t vcpu, hv_reg_t reg, uint64_t *value);
hv_return_t hv_vcpu_set_reg(hv_vcpu_t vcpu, hv_reg_t reg, uint64_t value);
hv_return_t hv_vcpu_get_simd_fp_reg(hv_vcpu_t vcpu, hv_simd_fp_reg_t reg,
                                    hv_simd_fp_uchar16_t *value);
hv_return_t hv_vcpu_set_simd_fp_reg(hv_vcpu_t vcpu, hv_simd_fp_reg_t reg,
                                    hv_simd_fp_uchar16_t value);
hv_return_t hv_vcpu_get_sys_reg(hv_vcpu_t vcpu, hv_sys_reg_t reg,
                                uint64_t *value);
hv_return_t hv_vcpu_set_sys_reg(hv_vcpu_t vcpu, hv_sys_reg_t reg,
                                uint64_t value);
hv_return_t hv_vcpu_set_pending_interrupt(hv_vcpu_t vcpu,
                                          hv_interrupt_type_t type,
                                          bool pending);
hv_return_t hv_vcpu_set_trap_debug_exceptions(hv_vcpu_t vcpu, bool value);
hv_return_t hv_vcpu_set_trap_debug_reg_accesses(hv_vcpu_t vcpu, bool value);
hv_return_t hv_vcpu_set_vtimer_mask(hv_vcpu_t vcpu, bool vtimer_is_masked);
hv_return_t hv_vcpu_set_vtimer_offset(hv_vcpu_t vcpu, uint64_t vtimer_offset);

#ifdef __cplusplus
}
#endif

#endif
