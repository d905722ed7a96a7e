/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * Not Apple's SDK: declaration shim, see shim/DriverKit/README.md.
 *
 * The object model as DriverKit code sees it: reference-counted objects,
 * typed casts, and the conventions of IIG-generated classes - an "_Impl"
 * method per LOCAL/remote method, IMPL() to name it, SUPERDISPATCH to call
 * the superclass's implementation through the RPC dispatcher.
 */
#ifndef SHIM_DRIVERKIT_OSOBJECT_H
#define SHIM_DRIVERKIT_OSOBJECT_H

#include <DriverKit/IOTypes.h>

class OSMetaClassBase;
class OSObject;
class OSMetaClass;

/* One IPC message between the kernel and the dext; opaque to drivers. */
struct IORPC {
	void *message;
	void *reply;
	uint32_t sendSize;
	uint32_t replySize;
};

typedef kern_return_t (*OSDispatchMethod)(OSMetaClassBase *self,
					  const IORPC rpc);

class OSMetaClassBase {
public:
	virtual void retain() const;
	virtual void release() const;
	virtual kern_return_t Dispatch(const IORPC rpc);

protected:
	OSMetaClassBase();
	virtual ~OSMetaClassBase();
};

class OSObject : public OSMetaClassBase {
public:
	virtual bool init();
	virtual void free();
	static kern_return_t _Dispatch(OSObject *self, const IORPC rpc);
};

/*
 * OSDynamicCast: the object as that class, or NULL. The SDK implements it
 * with metaclasses; here a declared (never defined) template keeps the
 * types checked.
 */
template <class T> T *OSDynamicCastImpl(const OSMetaClassBase *object);
#define OSDynamicCast(type, inst)	OSDynamicCastImpl<type>(inst)

#define OSSafeReleaseNULL(inst)				\
	do {						\
		if ((inst) != nullptr)			\
			(inst)->release();		\
		(inst) = nullptr;			\
	} while (0)

/* Conventions of IIG-generated classes. */
#define IMPL(_class, _method)	_class::_method##_Impl(_class##_##_method##_Args)
#define SUPERDISPATCH		((OSDispatchMethod)&super::_Dispatch)
#define APPLE_KEXT_OVERRIDE	override

#endif
