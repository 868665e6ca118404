//go:build !linux

package collect

// sysSeams is empty where no collector makes system calls.
type sysSeams struct{}

func (*sysSeams) setDefaults() {}
