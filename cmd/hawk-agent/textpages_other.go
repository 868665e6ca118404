//go:build !linux

package main

// trimTextPages is Linux's fault-around fix; elsewhere nothing to do.
func trimTextPages() {}
