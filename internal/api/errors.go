package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/prometheus/promql"
)

// errorType is Prometheus' errorType string with its HTTP status.
type errorType struct {
	name string
	code int
}

// The error types hawk returns, with Prometheus' default status codes.
var (
	errorBadData  = errorType{"bad_data", http.StatusBadRequest}
	errorExec     = errorType{"execution", http.StatusUnprocessableEntity}
	errorCanceled = errorType{"canceled", 499} // Prometheus' "client closed connection"
	errorTimeout  = errorType{"timeout", http.StatusServiceUnavailable}
	errorUnavail  = errorType{"unavailable", http.StatusServiceUnavailable}
	errorInternal = errorType{"internal", http.StatusInternalServerError}
)

type apiError struct {
	typ errorType
	err error
}

func badData(err error) result { return result{err: &apiError{errorBadData, err}} }

// invalidParam is Prometheus' invalidParamError.
func invalidParam(err error, param string) result {
	return badData(fmt.Errorf("invalid parameter %q: %w", param, err))
}

// queryError maps an engine or storage error as Prometheus' returnAPIError.
func queryError(err error) *apiError {
	var (
		eqc promql.ErrQueryCanceled
		eqt promql.ErrQueryTimeout
		es  promql.ErrStorage
	)
	switch {
	case errors.Is(err, errStopping):
		return &apiError{errorUnavail, err}
	case errors.As(err, &eqc):
		return &apiError{errorCanceled, err}
	case errors.As(err, &eqt):
		return &apiError{errorTimeout, err}
	case errors.As(err, &es):
		return &apiError{errorInternal, err}
	case errors.Is(err, context.Canceled):
		return &apiError{errorCanceled, err}
	}
	return &apiError{errorExec, err}
}

// constructionError maps an error of NewInstantQuery or NewRangeQuery as
// Prometheus' queryConstructionError: a bad query is bad_data.
func constructionError(err error) *apiError {
	var (
		eqc promql.ErrQueryCanceled
		eqt promql.ErrQueryTimeout
	)
	if errors.As(err, &eqc) || errors.As(err, &eqt) || errors.As(err, new(noSlotError)) {
		return queryError(err)
	}
	return &apiError{errorBadData, fmt.Errorf("invalid parameter %q: %w", "query", err)}
}
