// SPDX-License-Identifier: GPL-2.0
/*
 * quirks/tso.c - answer the TSO memory-model prctl on a TSO guest.
 *
 * On Apple silicon the host can run a vCPU with hardware TSO (ACTLR_EL1 bit
 * 1, set by the VMM at vCPU init). x86 emulators such as FEX then skip their
 * software TSO, but they ask the kernel first, with the prctl that Asahi
 * kernels carry and mainline does not:
 *   PR_GET_MEM_MODEL (0x6d4d444c) -> the thread's model,
 *   PR_SET_MEM_MODEL (0x4d4d444c), model -> 0 or -EINVAL;
 *   models: DEFAULT 0, TSO 1; unused arguments must be 0.
 *
 * When every vCPU already runs TSO, a kretprobe on the prctl syscall answers
 * both: SET succeeds for DEFAULT and TSO alike (TSO is a valid, stronger
 * implementation of the default) and changes nothing; GET answers DEFAULT,
 * the state of a thread that asked for nothing, which is what makes FEX go
 * on to ask for TSO. The answer is given only where the kernel itself
 * returned -EINVAL, so a kernel that knows the prctl keeps its own.
 *
 * tso=-1 (auto): on arm64 when ACTLR_EL1 bit 1 reads set; tso=1 forces the
 * shim on (for testing, on any architecture), tso=0 keeps it off.
 */
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <asm/syscall.h>
#ifdef CONFIG_ARM64
#include <asm/sysreg.h>
#endif

#include "adma_drv.h"

#define PR_SET_MEM_MODEL		0x4d4d444c
#define PR_GET_MEM_MODEL		0x6d4d444c
#define PR_SET_MEM_MODEL_DEFAULT	0
#define PR_SET_MEM_MODEL_TSO		1

#if defined(CONFIG_X86_64)
#define ADMA_PRCTL_SYMBOL	"__x64_sys_prctl"
#elif defined(CONFIG_ARM64)
#define ADMA_PRCTL_SYMBOL	"__arm64_sys_prctl"
#endif

static int tso = -1;
module_param(tso, int, 0444);
MODULE_PARM_DESC(tso,
		 "TSO prctl shim: -1 auto (arm64, when the host set ACTLR_EL1.TSO), 0 off, 1 on");

static atomic64_t adma_tso_count;

u64 adma_tso_answers(void)
{
	return atomic64_read(&adma_tso_count);
}

#ifdef ADMA_PRCTL_SYMBOL

struct adma_tso_call {
	long answer;
};

static int __kprobes adma_tso_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	/* the wrapper's only argument: the syscall's user registers */
	struct pt_regs *uregs = (struct pt_regs *)regs_get_kernel_argument(regs, 0);
	struct adma_tso_call *call = (struct adma_tso_call *)ri->data;
	unsigned long args[6];

	syscall_get_arguments(current, uregs, args);
	switch ((int)args[0]) {
	case PR_GET_MEM_MODEL:
		if (args[1] || args[2] || args[3] || args[4])
			return 1;
		call->answer = PR_SET_MEM_MODEL_DEFAULT;
		return 0;
	case PR_SET_MEM_MODEL:
		if (args[2] || args[3] || args[4])
			return 1;
		if (args[1] != PR_SET_MEM_MODEL_DEFAULT &&
		    args[1] != PR_SET_MEM_MODEL_TSO)
			return 1;
		call->answer = 0;
		return 0;
	}
	return 1;	/* not ours: no return probe */
}

static int __kprobes adma_tso_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct adma_tso_call *call = (struct adma_tso_call *)ri->data;

	if (regs_return_value(regs) != -EINVAL)
		return 0;	/* the kernel knows this prctl */
	regs_set_return_value(regs, call->answer);
	atomic64_inc(&adma_tso_count);
	return 0;
}

/*
 * Filled afresh at every arming: registration resolves symbol_name into
 * kp.addr (and keeps it after unregistering), and register_kprobe refuses
 * a probe that names both, so a reused struct could not be armed again
 * after the last apple-dma-pci was unbound and one was bound again.
 */
static struct kretprobe adma_tso_krp;
static bool adma_tso_armed;

/* Does the host run this vCPU with hardware TSO? */
static bool adma_tso_hw(struct adma_dev *a)
{
#ifdef CONFIG_ARM64
	return read_sysreg(actlr_el1) & BIT(1);
#else
	return false;
#endif
}

void adma_tso_init(struct adma_dev *a)
{
	int ret;

	if (!tso || (tso < 0 && !adma_tso_hw(a)))
		return;
	memset(&adma_tso_krp, 0, sizeof(adma_tso_krp));
	adma_tso_krp.kp.symbol_name = ADMA_PRCTL_SYMBOL;
	adma_tso_krp.entry_handler = adma_tso_entry;
	adma_tso_krp.handler = adma_tso_ret;
	adma_tso_krp.data_size = sizeof(struct adma_tso_call);
	adma_tso_krp.maxactive = 64;
	ret = register_kretprobe(&adma_tso_krp);
	if (ret) {
		pr_warn(ADMA_DRV_NAME ": TSO prctl shim: register_kretprobe(%s): %d\n",
			ADMA_PRCTL_SYMBOL, ret);
		return;
	}
	adma_tso_armed = true;
	pr_info(ADMA_DRV_NAME ": TSO prctl shim on (%s)\n",
		tso > 0 ? "forced" : "host runs TSO");
}

void adma_tso_fini(void)
{
	if (adma_tso_armed)
		unregister_kretprobe(&adma_tso_krp);
	adma_tso_armed = false;
}

#else /* no syscall wrapper we know */

void adma_tso_init(struct adma_dev *a)
{
	if (tso > 0)
		pr_info(ADMA_DRV_NAME ": TSO prctl shim not built for this architecture\n");
}

void adma_tso_fini(void)
{
}

#endif
