#include "sandbox/linux/seccomp_policy.h"

#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <string>

#include "sandbox/unique_fd.h"

#if defined(__s390__) || defined(__s390x__)
#error "clone() takes its flags in arg1 on s390: the clone rules below assume arg0"
#endif

// Newer than the distribution's headers; syscall numbers from 424 on are shared by every arch.
#ifndef __NR_open_tree_attr
#define __NR_open_tree_attr 467
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

namespace cordon {
namespace {

// ---- Syscall sets, named by intent. Each is denied with EPERM unless said otherwise. ----

// Reaching into another process: reading or writing its memory, stealing its fds, comparing
// its kernel objects. Outside processes are already invisible through the PID namespace, but
// these are the classic escape and credential-theft tools, and a build never needs them.
constexpr int kCrossProcess[] = {
    __NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev,
    __NR_kcmp,   __NR_pidfd_getfd,      __NR_process_madvise,
};

// Large, bug-prone kernel surfaces that ordinary commands do not need and that have carried
// many local privilege escalations: eBPF, perf events, userfaultfd (the standard tool for
// winning kernel races) and io_uring (which also performs I/O that seccomp never sees).
constexpr int kKernelAttackSurface[] = {
    __NR_bpf,
    __NR_perf_event_open,
    __NR_userfaultfd,
    __NR_io_uring_setup,
    __NR_io_uring_enter,
    __NR_io_uring_register,
};

// The kernel keyrings are not per-sandbox: a command could read or plant keys in the
// server user's session and user keyrings.
constexpr int kKeyring[] = {__NR_keyctl, __NR_add_key, __NR_request_key};

// Changing the filesystem view: the mount plan is final once the worker is built, and a
// new mount could uncover what a read-only bind or an empty tmpfs hides.
constexpr int kMount[] = {
    __NR_mount,      __NR_umount2,   __NR_pivot_root,     __NR_chroot,
    __NR_move_mount, __NR_open_tree, __NR_open_tree_attr, __NR_fsopen,
    __NR_fsconfig,   __NR_fsmount,   __NR_fspick,         __NR_mount_setattr,
};

// Entering or creating namespaces: a fresh user namespace hands back every capability (and
// with it the kernel surface of netfilter, mounts and more); setns could rejoin the host's.
// clone() is filtered by flag below; clone3 separately.
constexpr int kNamespaces[] = {__NR_unshare, __NR_setns};

// Administering the host: all but syslog need host capabilities, which sandboxed processes
// never hold; denied anyway so a capability leak is not enough.
constexpr int kHostAdmin[] = {
    __NR_kexec_load,
    __NR_kexec_file_load,
    __NR_reboot,
    __NR_init_module,
    __NR_finit_module,
    __NR_delete_module,
    __NR_swapon,
    __NR_swapoff,
    __NR_acct,
    __NR_syslog,  // readable when kernel.dmesg_restrict=0: leaks kernel addresses
#ifdef __NR_iopl
    __NR_iopl,
#endif
#ifdef __NR_ioperm
    __NR_ioperm,
#endif
    // Opens any inode of a mounted filesystem by handle, walking around the mount plan.
    __NR_open_by_handle_at,
};

// Namespace flags refused in clone(). The worker keeps CLONE_NEWPID: each command is init
// of its own PID namespace. CLONE_NEWTIME shares its bit with the exit signal in clone(), so
// clone cannot create a time namespace; unshare (denied) is the only way.
constexpr uint64_t kCloneNamespaceFlags[] = {
    CLONE_NEWNS,   CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWIPC,
    CLONE_NEWUSER, CLONE_NEWPID,    CLONE_NEWNET,
};

constexpr uint64_t kLow32 = 0xffffffffULL;

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using FilterCtx = std::unique_ptr<void, CtxDeleter>;

class RuleWriter {
 public:
  explicit RuleWriter(scmp_filter_ctx ctx) : ctx_(ctx) {}

  // `args` are ANDed; separate calls for one syscall are ORed.
  template <class... Cmp>
  void Deny(int nr, int err, Cmp... args) {
    if (!error_.empty()) return;
    int rc = seccomp_rule_add(ctx_, SCMP_ACT_ERRNO(err), nr, sizeof...(args), args...);
    if (rc < 0) error_ = "seccomp_rule_add(" + std::to_string(nr) + "): " + std::to_string(-rc);
  }
  template <size_t N>
  void DenyAll(const int (&set)[N]) {
    for (int nr : set) Deny(nr, EPERM);
  }
  const std::string& error() const { return error_; }

 private:
  scmp_filter_ctx ctx_;
  std::string error_;
};

// Address families for socket() and socketpair(). AF_UNIX is always allowed (pipes between
// tools, the worker's own IPC). AF_INET/AF_INET6 only with the network on. AF_NETLINK only
// as NETLINK_ROUTE: glibc's getifaddrs()/if_nameindex() and getaddrinfo(AI_ADDRCONFIG) use
// it, it shows only the sandbox's own interfaces, and changing them needs CAP_NET_ADMIN over
// the namespace; every other netlink protocol (netfilter, xfrm, audit, generic...) is denied
// as kernel surface. AF_PACKET, raw Bluetooth, vsock, AF_ALG and the rest are denied.
// The family is an int: only the low 32 bits are compared, as the kernel reads them.
// Families >= 64 do not need a rule: the kernel rejects family >= AF_MAX itself.
void DenySocketFamilies(RuleWriter& w, NetworkMode network) {
  for (int nr : {__NR_socket, __NR_socketpair}) {
    for (uint64_t family = 0; family < 64; ++family) {
      bool allowed = family == AF_UNIX || family == AF_NETLINK ||
                     (network == NetworkMode::kFull && (family == AF_INET || family == AF_INET6));
      if (!allowed) w.Deny(nr, EPERM, SCMP_A0(SCMP_CMP_MASKED_EQ, kLow32, family));
    }
    // A 64-bit "not equal" so stray high bits fail closed.
    w.Deny(nr, EPERM, SCMP_A0(SCMP_CMP_MASKED_EQ, kLow32, AF_NETLINK),
           SCMP_A2(SCMP_CMP_NE, NETLINK_ROUTE));
  }
}

// TIOCSTI pushes bytes into a terminal's input queue: typed into the user's shell once the
// command exits. TIOCLINUX can do the same on a virtual console (paste selection). The
// kernel reads the request as an unsigned int, so only the low 32 bits are compared: a
// request with high bits set still matches.
void DenyTerminalInjection(RuleWriter& w) {
  w.Deny(__NR_ioctl, EPERM, SCMP_A1(SCMP_CMP_MASKED_EQ, kLow32, TIOCSTI));
  w.Deny(__NR_ioctl, EPERM, SCMP_A1(SCMP_CMP_MASKED_EQ, kLow32, TIOCLINUX));
}

// personality() may only keep PER_LINUX (0) or query (0xffffffff): other values turn off
// ASLR (ADDR_NO_RANDOMIZE) for every later exec, make reads imply exec, or map page zero.
// libseccomp allows one comparison per argument in a rule, so "neither 0 nor all ones" is
// written as: some bit i is set while bit i+1 (cyclically) is clear - true for every 32-bit
// value except those two. Only the low 32 bits count, as the kernel takes an unsigned int.
void DenyPersonalityChanges(RuleWriter& w) {
  for (int bit = 0; bit < 32; ++bit) {
    uint64_t set = 1ULL << bit;
    uint64_t clear = 1ULL << ((bit + 1) % 32);
    w.Deny(__NR_personality, EPERM, SCMP_A0(SCMP_CMP_MASKED_EQ, set | clear, set));
  }
}

void DenyNamespaceClones(RuleWriter& w, SeccompStage stage) {
  for (uint64_t flag : kCloneNamespaceFlags) {
    if (stage == SeccompStage::kWorker && flag == CLONE_NEWPID) continue;
    w.Deny(__NR_clone, EPERM, SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag));
  }
  // clone3 passes its flags in memory that seccomp cannot read. ENOSYS (not EPERM) makes
  // glibc and other runtimes fall back to clone(), whose flags the rules above inspect.
  w.Deny(__NR_clone3, ENOSYS);
}

Result<std::vector<sock_filter>> ExportBpf(scmp_filter_ctx ctx) {
  UniqueFd fd(memfd_create("cordon-seccomp", MFD_CLOEXEC));
  if (!fd) return ErrnoError(ErrorKind::kInternal, "memfd_create", errno);
  if (int rc = seccomp_export_bpf(ctx, fd.get()); rc < 0) {
    return ErrnoError(ErrorKind::kInternal, "seccomp_export_bpf", -rc);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return ErrnoError(ErrorKind::kInternal, "fstat memfd", errno);
  size_t size = static_cast<size_t>(st.st_size);
  if (size == 0 || size % sizeof(sock_filter) != 0) {
    return MakeError(ErrorKind::kInternal, "seccomp_export_bpf wrote a partial program");
  }
  std::vector<sock_filter> program(size / sizeof(sock_filter));
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd.get(), reinterpret_cast<char*>(program.data()) + done, size - done,
                      static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return ErrnoError(ErrorKind::kInternal, "read seccomp program", errno);
    done += static_cast<size_t>(n);
  }
  return program;
}

}  // namespace

Result<std::vector<sock_filter>> CompileSeccomp(NetworkMode network, SeccompStage stage) {
  // Allow by default: this layer removes kernel surface; confinement itself comes from the
  // namespaces, mounts and Landlock underneath.
  FilterCtx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) return MakeError(ErrorKind::kInternal, "seccomp_init failed");
  // Only the native ABI is in the filter. Any other (i386 through int 0x80, and x32, whose
  // numbers carry bit 30 under the same AUDIT_ARCH_X86_64 - libseccomp rejects those in an
  // x86_64 filter) would see none of the rules, so it kills the whole process.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      rc < 0) {
    return ErrnoError(ErrorKind::kInternal, "seccomp_attr_set(ACT_BADARCH)", -rc);
  }
  RuleWriter w(ctx.get());
  if (stage == SeccompStage::kCommandDelta) {
    w.Deny(__NR_clone, EPERM, SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_NEWPID, CLONE_NEWPID));
    w.Deny(__NR_clone3, ENOSYS);
    if (!w.error().empty()) return MakeError(ErrorKind::kInternal, w.error());
    return ExportBpf(ctx.get());
  }
  w.DenyAll(kCrossProcess);
  w.DenyAll(kKernelAttackSurface);
  w.DenyAll(kKeyring);
  w.DenyAll(kMount);
  w.DenyAll(kNamespaces);
  w.DenyAll(kHostAdmin);
  DenyNamespaceClones(w, stage);
  DenySocketFamilies(w, network);
  DenyTerminalInjection(w);
  DenyPersonalityChanges(w);
  if (!w.error().empty()) return MakeError(ErrorKind::kInternal, w.error());
  return ExportBpf(ctx.get());
}

Status LoadSeccomp(const std::vector<sock_filter>& program) {
  if (program.empty() || program.size() > BPF_MAXINSNS) {
    return MakeError(ErrorKind::kInternal, "seccomp program is empty or too long");
  }
  sock_fprog prog{};
  prog.len = static_cast<unsigned short>(program.size());
  prog.filter = const_cast<sock_filter*>(program.data());
  // Required of a caller without CAP_SYS_ADMIN, and wanted anyway: no setuid way back out.
  if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return ErrnoError(ErrorKind::kSandboxFailed, "prctl(PR_SET_NO_NEW_PRIVS)", errno);
  }
  // TSYNC: in a multithreaded caller every thread gets the filter, or none does.
  long rc = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &prog);
  if (rc == 0) return OkStatus();
  if (rc > 0) {
    return MakeError(ErrorKind::kSandboxFailed,
                     "seccomp TSYNC failed for thread " + std::to_string(rc));
  }
  if (errno == ENOSYS && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0) {
    return OkStatus();
  }
  return ErrnoError(ErrorKind::kSandboxFailed, "seccomp(SECCOMP_SET_MODE_FILTER)", errno);
}

}  // namespace cordon
