// SPDX-License-Identifier: GPL-2.0
/*
 * quirks/dczva.c - keep user space from zeroing passed-through BARs with
 * DC ZVA.
 *
 * Under HVF the host maps a passed-through BAR into the guest as Device
 * memory at stage 2 (hv_vm_map() takes no memory type). The guest maps a
 * prefetchable BAR as Normal memory (ioremap_wc(), a write-combined mmap of
 * VRAM by Mesa, CUDA or a DRM driver), but an access gets the stronger of
 * the two types: Device. DC ZVA to any Device memory is an alignment fault
 * whatever DCZID_EL0 says, and libc's memset() zeroes with DC ZVA: zeroing
 * mapped VRAM kills the program (SIGBUS).
 *
 * A guest can neither change stage 2 nor trap EL1's DC ZVA (HCR_EL2.TDZ is
 * the host's). It can clear SCTLR_EL1.DZE: DCZID_EL0.DZP then reads 1 at
 * EL0, so a program started afterwards zeroes with plain stores, and DC ZVA
 * at EL0 traps to EL1. Programs already running may have chosen a DC ZVA
 * memset at startup (glibc picks its memset once per process from
 * DCZID_EL0) and would now get SIGILL, init among them: so the trap is
 * answered here, by zeroing the block with ordinary aligned stores (fine on
 * Device memory) and stepping over the instruction. arm64 Linux offers no
 * hook for that trap, so a kprobe on do_el0_sys() sends DC ZVA traps to our
 * handler instead; kernels where that function cannot be probed (6.1's
 * do_sysinstr is NOKPROBE) keep the quirk off rather than kill programs.
 * Left as they are: the kernel's own DC ZVA at EL1 (drivers must use
 * memset_io() on BARs) and unaligned accesses to such a BAR, which fault for
 * the same reason.
 *
 * SCTLR_EL1 is per CPU and the kernel sets DZE again whenever it
 * initialises a CPU: a hotplug state (run before tasks are scheduled there)
 * and a CPU PM notifier clear it again. dczva=1 turns the quirk on for the
 * whole guest, whatever the GPU's vendor; the last apple-dma-pci going away
 * gives DC ZVA back to EL0.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/cpu_pm.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <linux/wait_bit.h>
#ifdef CONFIG_ARM64
#include <asm/esr.h>
#include <asm/insn.h>
#include <asm/sysreg.h>
#endif

#include "adma_drv.h"

static bool dczva;
module_param(dczva, bool, 0444);
MODULE_PARM_DESC(dczva,
		 "Keep user space from DC ZVA (DCZID_EL0.DZP=1, the instruction emulated with stores) for GPUs whose BARs the host maps as Device memory (HVF); arm64, 6.12+ (default: off)");

static atomic64_t adma_dczva_count;

u64 adma_dczva_emulated(void)
{
	return atomic64_read(&adma_dczva_count);
}

#ifdef CONFIG_ARM64

/* the trap's ESR for DC ZVA, Xt: SYS #3, C7, C4, #1 */
#define ADMA_ESR_DC_ZVA_MASK	(ESR_ELx_EC_MASK | ESR_ELx_SYS64_ISS_SYS_OP_MASK | \
				 ESR_ELx_SYS64_ISS_DIR_MASK)
#define ADMA_ESR_DC_ZVA		((ESR_ELx_EC_SYS64 << ESR_ELx_EC_SHIFT) | \
				 ESR_ELx_SYS64_ISS_SYS_VAL(1, 3, 1, 7, 4) | \
				 ESR_ELx_SYS64_ISS_DIR_WRITE)
#define ADMA_EL0_SYS_SYMBOL	"do_el0_sys"

static enum cpuhp_state adma_dczva_state;
static bool adma_dczva_pm;
static struct kprobe adma_dczva_kp;
static bool adma_dczva_probed;
static atomic_t adma_dczva_inflight;	/* tasks inside the handler below */

/*
 * Runs instead of do_el0_sys(esr, regs) for a DC ZVA trap, in its context
 * (process context, preemptible): zero the block Xt names, as DC ZVA would,
 * with stores, and step over the instruction.
 */
static noinline void adma_dczva_emulate(unsigned long esr, struct pt_regs *regs)
{
	unsigned long block = 4UL << (read_sysreg(dczid_el0) & 0xf);
	unsigned long addr;

	addr = pt_regs_read_reg(regs, ESR_ELx_SYS64_ISS_RT(esr));
	addr = untagged_addr(addr) & ~(block - 1);
	if (clear_user((void __user *)addr, block)) {
		force_sig(SIGSEGV);
	} else {
		regs->pc += AARCH64_INSN_SIZE;
		regs->pstate &= ~PSR_BTYPE_MASK;
		atomic64_inc(&adma_dczva_count);
	}
	if (atomic_dec_and_test(&adma_dczva_inflight))
		wake_up_var(&adma_dczva_inflight);
}

/* do_el0_sys(esr, regs): a DC ZVA goes to adma_dczva_emulate instead */
static int __kprobes adma_dczva_pre(struct kprobe *p, struct pt_regs *regs)
{
	if ((regs->regs[0] & ADMA_ESR_DC_ZVA_MASK) != ADMA_ESR_DC_ZVA)
		return 0;
	atomic_inc(&adma_dczva_inflight);
	instruction_pointer_set(regs, (unsigned long)adma_dczva_emulate);
	return 1;	/* pc changed: the probed function does not run */
}

static void adma_dczva_apply(void)
{
	sysreg_clear_set(sctlr_el1, SCTLR_EL1_DZE, 0);
	isb();
}

static void adma_dczva_restore(void)
{
	sysreg_clear_set(sctlr_el1, 0, SCTLR_EL1_DZE);
	isb();
}

static int adma_dczva_online(unsigned int cpu)
{
	adma_dczva_apply();
	return 0;
}

static int adma_dczva_offline(unsigned int cpu)
{
	adma_dczva_restore();
	return 0;
}

/* a CPU back from a low-power state may have had SCTLR_EL1 reset */
static int adma_dczva_pm_cb(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	if (action == CPU_PM_EXIT || action == CPU_PM_ENTER_FAILED)
		adma_dczva_apply();
	return NOTIFY_OK;
}

static struct notifier_block adma_dczva_pm_nb = {
	.notifier_call = adma_dczva_pm_cb,
};

static void adma_dczva_unprobe(void)
{
	if (!adma_dczva_probed)
		return;
	unregister_kprobe(&adma_dczva_kp);
	adma_dczva_probed = false;
	/* a task may still be zeroing a block (page faults sleep) */
	wait_var_event(&adma_dczva_inflight, !atomic_read(&adma_dczva_inflight));
}

void adma_dczva_init(void)
{
	int ret;

	if (!dczva)
		return;
	/* the emulation first: from here on a DC ZVA trap is answered */
	memset(&adma_dczva_kp, 0, sizeof(adma_dczva_kp));
	adma_dczva_kp.symbol_name = ADMA_EL0_SYS_SYMBOL;
	adma_dczva_kp.pre_handler = adma_dczva_pre;
	ret = register_kprobe(&adma_dczva_kp);
	if (ret) {
		pr_warn(ADMA_DRV_NAME ": DC ZVA quirk off: cannot probe %s (%d), so DC ZVA in running programs could not be emulated\n",
			ADMA_EL0_SYS_SYMBOL, ret);
		return;
	}
	adma_dczva_probed = true;
	/* clears DZE on every CPU online now, and on any coming up later */
	ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "apple_dma/dczva:online",
				adma_dczva_online, adma_dczva_offline);
	if (ret < 0) {
		pr_err(ADMA_DRV_NAME ": DC ZVA quirk off: cpuhp_setup_state: %d\n",
		       ret);
		adma_dczva_unprobe();
		return;
	}
	adma_dczva_state = ret;
	adma_dczva_pm = !cpu_pm_register_notifier(&adma_dczva_pm_nb);
	pr_info(ADMA_DRV_NAME ": DC ZVA quirk on: DCZID_EL0.DZP=1 for user space, DC ZVA emulated\n");
}

void adma_dczva_fini(void)
{
	if (!adma_dczva_state)
		return;
	if (adma_dczva_pm)
		cpu_pm_unregister_notifier(&adma_dczva_pm_nb);
	adma_dczva_pm = false;
	/* DZE set again on every online CPU, then the emulation goes */
	cpuhp_remove_state(adma_dczva_state);
	adma_dczva_state = 0;
	adma_dczva_unprobe();
	pr_info(ADMA_DRV_NAME ": DC ZVA quirk off (%llu DC ZVA emulated)\n",
		adma_dczva_emulated());
}

#else /* DC ZVA is arm64's */

void adma_dczva_init(void)
{
	if (dczva)
		pr_info(ADMA_DRV_NAME ": dczva=1 has no effect on this architecture\n");
}

void adma_dczva_fini(void)
{
}

#endif
