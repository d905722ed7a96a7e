/* SPDX-License-Identifier: (GPL-2.0 OR MIT) */
/*
 * iokit_shim.c - TEST DOUBLE of the IOKit user-space calls of
 * host/hostdev_iokit.c (see iokit_shim.h). Not IOKit.
 *
 * io_object_t handles index a small table (services, iterators,
 * connections); a connection is a session of the dext core, and every call
 * on it goes where our DriverKit shell sends it on a Mac: ExternalMethod ->
 * dext_dispatch(), CopyClientMemoryForType -> dext_memory_for_type(), the
 * user client's Stop -> dext_session_close(). Structures above 4096 bytes
 * are passed as IOKit passes them (the dext sees the caller's buffer, as a
 * mapped descriptor), smaller ones are copied in and out.
 */
#include <stdlib.h>
#include <string.h>

#include "shim_int.h"

#define SERVICE_ID	0x2001u		/* the simulated function's dext */
#define FIRST_ID	0x3000u
#define MAX_OBJS	256
#define INBAND_MAX	4096

const mach_port_t kIOMainPortDefault = MACH_PORT_NULL;
mach_port_t mach_task_self_ = 0x103;

struct __CFDictionary {
	bool by_id;
	uint64_t id;
	char name[64];
};

struct IONotificationPort {
	mach_port_t port;
	dispatch_queue_t queue;
	bool destroyed;
	int refs;
};

struct shim_completion {
	struct IONotificationPort *port;
	IOAsyncCallback callback;
	void *refcon;
	int refs;
};

enum kind { K_FREE, K_ITER, K_CONN, K_PORT };

struct conn {
	struct dext_session *session;
	bool dead;
	bool crash_in_batch;
};

struct obj {
	enum kind kind;
	union {
		struct { bool has_service, done; } iter;
		struct conn *conn;
		struct IONotificationPort *port;
	} u;
};

static struct obj objs[MAX_OBJS];
static pthread_mutex_t objs_lock = PTHREAD_MUTEX_INITIALIZER;

static io_object_t obj_new(enum kind kind)
{
	io_object_t id = IO_OBJECT_NULL;
	unsigned int i;

	pthread_mutex_lock(&objs_lock);
	for (i = 0; i < MAX_OBJS; i++) {
		if (objs[i].kind == K_FREE) {
			memset(&objs[i], 0, sizeof(objs[i]));
			objs[i].kind = kind;
			id = FIRST_ID + i;
			break;
		}
	}
	pthread_mutex_unlock(&objs_lock);
	return id;
}

/* The object behind id if it is of this kind; the table stays locked. */
static struct obj *obj_get(io_object_t id, enum kind kind)
{
	struct obj *o;

	if (id < FIRST_ID || id >= FIRST_ID + MAX_OBJS)
		return NULL;
	pthread_mutex_lock(&objs_lock);
	o = &objs[id - FIRST_ID];
	if (o->kind != kind) {
		pthread_mutex_unlock(&objs_lock);
		return NULL;
	}
	return o;
}

static void obj_put(void)
{
	pthread_mutex_unlock(&objs_lock);
}

/* ---- CoreFoundation: matching dictionaries */

/* CFRelease, for the dictionaries made here (the backend never calls it) */
static void dict_release(CFDictionaryRef d)
{
	free((void *)d);
}

CFMutableDictionaryRef IOServiceMatching(const char *name)
{
	struct __CFDictionary *d = calloc(1, sizeof(*d));

	if (d && name)
		strncpy(d->name, name, sizeof(d->name) - 1);
	return d;
}

CFMutableDictionaryRef IORegistryEntryIDMatching(uint64_t entryID)
{
	struct __CFDictionary *d = calloc(1, sizeof(*d));

	if (d) {
		d->by_id = true;
		d->id = entryID;
	}
	return d;
}

/* ---- the registry: one service, our dext on the simulated function */

kern_return_t IOServiceGetMatchingServices(mach_port_t mainPort,
					   CFDictionaryRef matching,
					   io_iterator_t *existing)
{
	const struct __CFDictionary *d = matching;
	bool match;
	struct obj *o;
	io_object_t it;

	(void)mainPort;
	if (!d || !existing) {
		dict_release(d);
		return kIOReturnBadArgument;
	}
	match = d->by_id ? d->id == iokit_shim_registry_id() :
			   !strcmp(d->name, DEXT_SERVICE_CLASS);
	dict_release(d);		/* consumed, as IOKit does */
	if (match && !shim_kernel_ensure())
		return kIOReturnNoResources;
	it = obj_new(K_ITER);
	if (!it)
		return kIOReturnNoMemory;
	o = obj_get(it, K_ITER);
	o->u.iter.has_service = match;
	obj_put();
	*existing = it;
	return kIOReturnSuccess;
}

io_object_t IOIteratorNext(io_iterator_t iterator)
{
	struct obj *o = obj_get(iterator, K_ITER);
	io_object_t next = IO_OBJECT_NULL;

	if (!o)
		return IO_OBJECT_NULL;
	if (o->u.iter.has_service && !o->u.iter.done)
		next = SERVICE_ID;
	o->u.iter.done = true;
	obj_put();
	return next;
}

kern_return_t IOObjectRelease(io_object_t object)
{
	struct obj *o;

	if (object == SERVICE_ID)
		return kIOReturnSuccess;	/* lives as long as the double */
	o = obj_get(object, K_ITER);
	if (!o)
		return kIOReturnBadArgument;
	o->kind = K_FREE;
	obj_put();
	return kIOReturnSuccess;
}

/* ---- connections: sessions of the dext core */

kern_return_t IOServiceOpen(io_service_t service, task_port_t owningTask,
			    uint32_t type, io_connect_t *connect)
{
	struct conn *c;
	struct obj *o;
	io_object_t id;
	int st;

	if (service != SERVICE_ID || owningTask != mach_task_self() ||
	    type != DEXT_OPEN_TYPE || !connect)
		return kIOReturnBadArgument;
	if (!shim_kernel_core())
		return kIOReturnNoDevice;
	c = calloc(1, sizeof(*c));
	id = c ? obj_new(K_CONN) : IO_OBJECT_NULL;
	if (!id) {
		free(c);
		return kIOReturnNoMemory;
	}
	c->session = dext_session_open(shim_kernel_core(), c, &st);
	if (!c->session) {
		o = obj_get(id, K_CONN);
		o->kind = K_FREE;
		obj_put();
		free(c);
		return DEXT_IORETURN(st);
	}
	o = obj_get(id, K_CONN);
	o->u.conn = c;
	obj_put();
	*connect = id;
	return kIOReturnSuccess;
}

/* What the kernel does when the client goes away, politely or not. */
static void conn_kill(struct conn *c)
{
	if (c->dead)
		return;
	c->dead = true;
	dext_session_close(c->session);
	c->session = NULL;
}

kern_return_t IOServiceClose(io_connect_t connect)
{
	struct obj *o = obj_get(connect, K_CONN);
	struct conn *c;
	bool was_dead;

	if (!o)
		return kIOReturnBadArgument;
	c = o->u.conn;
	o->kind = K_FREE;
	obj_put();
	was_dead = c->dead;
	conn_kill(c);
	free(c);
	return was_dead ? MACH_SEND_INVALID_DEST : kIOReturnSuccess;
}

void iokit_shim_crash(io_connect_t connect)
{
	struct obj *o = obj_get(connect, K_CONN);
	struct conn *c;

	if (!o)
		return;
	c = o->u.conn;
	obj_put();
	conn_kill(c);
}

void iokit_shim_crash_in_next_batch(io_connect_t connect)
{
	struct obj *o = obj_get(connect, K_CONN);

	if (!o)
		return;
	o->u.conn->crash_in_batch = true;
	obj_put();
}

/* The live connection behind connect, or NULL (none, or its client died). */
static struct conn *conn_live(io_connect_t connect)
{
	struct obj *o = obj_get(connect, K_CONN);
	struct conn *c;

	if (!o)
		return NULL;
	c = o->u.conn;
	obj_put();
	return c->dead ? NULL : c;
}

static kern_return_t call(io_connect_t connect, uint32_t selector,
			  const uint64_t *input, uint32_t inputCnt,
			  const void *inputStruct, size_t inputStructCnt,
			  uint64_t *output, uint32_t *outputCnt,
			  void *outputStruct, size_t *outputStructCnt,
			  struct shim_completion *completion)
{
	struct conn *c = conn_live(connect);
	uint64_t sout[DEXT_MAX_SCALARS];
	size_t out_cap = outputStructCnt ? *outputStructCnt : 0;
	void *inbuf = NULL, *outbuf = NULL;
	struct dext_call dc;
	int st;

	if (!c)
		return MACH_SEND_INVALID_DEST;
	if (inputCnt > DEXT_MAX_SCALARS || (inputCnt && !input) ||
	    (outputCnt && *outputCnt > DEXT_MAX_SCALARS) ||
	    (outputCnt && *outputCnt && !output) ||
	    (inputStructCnt && !inputStruct) || (out_cap && !outputStruct))
		return kIOReturnBadArgument;
	shim_count(&shim_counts.calls);

	memset(&dc, 0, sizeof(dc));
	dc.selector = selector;
	dc.scalar_in = input;
	dc.scalar_in_count = inputCnt;
	dc.scalar_out = sout;
	dc.scalar_out_count = outputCnt ? *outputCnt : 0;
	dc.completion = completion;
	dc.struct_in_size = inputStructCnt;
	if (inputStructCnt > INBAND_MAX) {
		/* out of line: the dext maps the caller's buffer */
		dc.struct_in = inputStruct;
		dc.struct_in_desc = (void *)inputStruct;
		shim_count(&shim_counts.ool_in);
	} else if (inputStructCnt) {
		inbuf = malloc(inputStructCnt);
		if (!inbuf)
			return kIOReturnNoMemory;
		memcpy(inbuf, inputStruct, inputStructCnt);
		dc.struct_in = inbuf;
	}
	dc.struct_out_size = out_cap;
	if (out_cap > INBAND_MAX) {
		dc.struct_out = outputStruct;
		shim_count(&shim_counts.ool_out);
	} else if (out_cap) {
		outbuf = aligned_alloc(8, (out_cap + 7) & ~(size_t)7);
		if (!outbuf) {
			free(inbuf);
			return kIOReturnNoMemory;
		}
		dc.struct_out = outbuf;
	}

	st = dext_dispatch(c->session, &dc);
	free(inbuf);

	if (c->crash_in_batch && selector == DEXT_SEL_DMA_BATCH) {
		/* the dext did the work; the client died before the reply */
		free(outbuf);
		conn_kill(c);
		return MACH_SEND_INVALID_DEST;
	}
	if (outputCnt) {
		if (dc.scalar_out_count)
			memcpy(output, sout,
			       dc.scalar_out_count * sizeof(*output));
		*outputCnt = dc.scalar_out_count;
	}
	if (outputStructCnt) {
		if (outbuf && dc.struct_out_size)
			memcpy(outputStruct, outbuf, dc.struct_out_size);
		*outputStructCnt = dc.struct_out_size;
	}
	free(outbuf);
	return DEXT_IORETURN(st);
}

kern_return_t IOConnectCallMethod(mach_port_t connection, uint32_t selector,
				  const uint64_t *input, uint32_t inputCnt,
				  const void *inputStruct,
				  size_t inputStructCnt, uint64_t *output,
				  uint32_t *outputCnt, void *outputStruct,
				  size_t *outputStructCnt)
{
	return call(connection, selector, input, inputCnt, inputStruct,
		    inputStructCnt, output, outputCnt, outputStruct,
		    outputStructCnt, NULL);
}

kern_return_t IOConnectCallScalarMethod(mach_port_t connection,
					uint32_t selector,
					const uint64_t *input,
					uint32_t inputCnt, uint64_t *output,
					uint32_t *outputCnt)
{
	return call(connection, selector, input, inputCnt, NULL, 0, output,
		    outputCnt, NULL, NULL, NULL);
}

/* ---- notification ports and async completions */

IONotificationPortRef IONotificationPortCreate(mach_port_t mainPort)
{
	struct IONotificationPort *p = calloc(1, sizeof(*p));
	struct obj *o;
	io_object_t id;

	(void)mainPort;
	id = p ? obj_new(K_PORT) : IO_OBJECT_NULL;
	if (!id) {
		free(p);
		return NULL;
	}
	p->port = id;
	p->refs = 1;
	o = obj_get(id, K_PORT);
	o->u.port = p;
	obj_put();
	return p;
}

static void port_unref_locked(struct IONotificationPort *p)
{
	if (--p->refs == 0)
		free(p);
}

void IONotificationPortDestroy(IONotificationPortRef notify)
{
	struct obj *o;

	if (!notify)
		return;
	o = obj_get(notify->port, K_PORT);
	if (!o)
		return;
	o->kind = K_FREE;
	notify->destroyed = true;
	port_unref_locked(notify);
	obj_put();
}

mach_port_t IONotificationPortGetMachPort(IONotificationPortRef notify)
{
	return notify ? notify->port : MACH_PORT_NULL;
}

void IONotificationPortSetDispatchQueue(IONotificationPortRef notify,
					dispatch_queue_t queue)
{
	pthread_mutex_lock(&objs_lock);
	notify->queue = queue;
	pthread_mutex_unlock(&objs_lock);
}

void shim_completion_retain(struct shim_completion *c)
{
	pthread_mutex_lock(&objs_lock);
	c->refs++;
	pthread_mutex_unlock(&objs_lock);
}

void shim_completion_release(struct shim_completion *c)
{
	pthread_mutex_lock(&objs_lock);
	if (--c->refs == 0) {
		port_unref_locked(c->port);
		free(c);
	}
	pthread_mutex_unlock(&objs_lock);
}

struct delivery {
	IOAsyncCallback callback;
	void *refcon;
	uint32_t n;
	void *args[DEXT_MAX_SCALARS];
};

static void deliver(void *ctx)
{
	struct delivery *d = ctx;

	shim_count(&shim_counts.notifications);
	d->callback(d->refcon, kIOReturnSuccess, d->args, d->n);
	free(d);
}

/* IOUserClient::AsyncCompletion: a message to the port, run on its queue. */
void shim_completion_send(struct shim_completion *c, const uint64_t *data,
			  uint32_t n)
{
	struct delivery *d = calloc(1, sizeof(*d));
	dispatch_queue_t q;
	uint32_t i;

	if (!d)
		return;
	pthread_mutex_lock(&objs_lock);
	q = c->port->destroyed ? NULL : c->port->queue;
	pthread_mutex_unlock(&objs_lock);
	if (!q) {
		free(d);	/* nobody listens: the message is dropped */
		return;
	}
	d->callback = c->callback;
	d->refcon = c->refcon;
	d->n = n < DEXT_MAX_SCALARS ? n : DEXT_MAX_SCALARS;
	for (i = 0; i < d->n; i++)
		d->args[i] = (void *)(uintptr_t)data[i];
	shim_queue_async(q, d, deliver);
}

kern_return_t IOConnectCallAsyncScalarMethod(mach_port_t connection,
					     uint32_t selector,
					     mach_port_t wake_port,
					     uint64_t *reference,
					     uint32_t referenceCnt,
					     const uint64_t *input,
					     uint32_t inputCnt,
					     uint64_t *output,
					     uint32_t *outputCnt)
{
	struct shim_completion *c;
	struct obj *o;
	kern_return_t kr;

	if (!reference || referenceCnt <= kIOAsyncCalloutRefconIndex ||
	    referenceCnt > kOSAsyncRef64Count ||
	    !reference[kIOAsyncCalloutFuncIndex])
		return kIOReturnBadArgument;
	c = calloc(1, sizeof(*c));
	if (!c)
		return kIOReturnNoMemory;
	o = obj_get(wake_port, K_PORT);
	if (!o) {
		free(c);
		return kIOReturnBadArgument;
	}
	c->port = o->u.port;
	c->port->refs++;
	c->refs = 1;
	obj_put();
	c->callback = (IOAsyncCallback)(uintptr_t)reference[kIOAsyncCalloutFuncIndex];
	c->refcon = (void *)(uintptr_t)reference[kIOAsyncCalloutRefconIndex];

	kr = call(connection, selector, input, inputCnt, NULL, 0, output,
		  outputCnt, NULL, NULL, c);
	shim_completion_release(c);	/* the dext retained it if it kept it */
	return kr;
}

/* ---- shared memory */

kern_return_t IOConnectMapMemory64(io_connect_t connect, uint32_t memoryType,
				   task_port_t intoTask,
				   mach_vm_address_t *atAddress,
				   mach_vm_size_t *ofSize,
				   IOOptionBits options)
{
	struct conn *c = conn_live(connect);
	const struct shim_mem *m;
	uint64_t opts = 0;
	void *token = NULL;
	int st;

	if (!c)
		return MACH_SEND_INVALID_DEST;
	if (intoTask != mach_task_self() || !atAddress || !ofSize ||
	    !(options & kIOMapAnywhere))
		return kIOReturnBadArgument;
	st = dext_memory_for_type(c->session, memoryType, &opts, &token);
	if (st != DEXT_S_OK)
		return DEXT_IORETURN(st);
	m = shim_kernel_mem(token);
	*atAddress = (mach_vm_address_t)(uintptr_t)m->ptr;
	*ofSize = m->size;
	return kIOReturnSuccess;
}

kern_return_t IOConnectUnmapMemory64(io_connect_t connect,
				     uint32_t memoryType,
				     task_port_t fromTask,
				     mach_vm_address_t atAddress)
{
	(void)memoryType;
	if (!obj_get(connect, K_CONN))
		return kIOReturnBadArgument;
	obj_put();
	if (fromTask != mach_task_self() || !atAddress)
		return kIOReturnBadArgument;
	return kIOReturnSuccess;
}
