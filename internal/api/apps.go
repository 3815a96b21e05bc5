package api

import (
	"net/http"

	"github.com/heraldhq/herald/internal/domain"
	"github.com/heraldhq/herald/internal/ids"
)

// appJSON is an App as answered.
type appJSON struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	UID       string            `json:"uid,omitempty"`
	Metadata  map[string]string `json:"metadata"`
	CreatedAt timestamp         `json:"created_at"`
	UpdatedAt timestamp         `json:"updated_at"`
}

func toAppJSON(a *domain.App) appJSON {
	return appJSON{
		ID: a.ID, Name: a.Name, UID: a.UID, Metadata: nonNil(a.Metadata),
		CreatedAt: timestamp(a.CreatedAt), UpdatedAt: timestamp(a.UpdatedAt),
	}
}

// appInput is the body of POST and PATCH /v1/apps[/{app}].
type appInput struct {
	Name     opt[string]            `json:"name"`
	UID      opt[string]            `json:"uid"`
	Metadata opt[map[string]string] `json:"metadata"`
}

// apply validates in and copies its fields into a; name is required when creating.
func (in *appInput) apply(a *domain.App, create bool) error {
	if in.Name.set || create {
		if err := domain.CheckName("name", in.Name.v, 1); err != nil {
			return err
		}
		a.Name = in.Name.v
	}
	if err := in.UID.setChecked(&a.UID, domain.CheckUID); err != nil {
		return err
	}
	if in.Metadata.set {
		a.Metadata = in.Metadata.v
	}
	a.Metadata = nonNil(a.Metadata)
	return nil
}

// createApp serves POST /v1/apps.
func (s *server) createApp(w http.ResponseWriter, r *http.Request, c *call) error {
	var in appInput
	if err := decodeBody(w, r, maxBodyBytes, false, &in); err != nil {
		return err
	}
	now := s.timeNow()
	a := &domain.App{ID: ids.New("app"), CreatedAt: now, UpdatedAt: now}
	if err := in.apply(a, true); err != nil {
		return err
	}
	err := s.svc.CreateApp(r.Context(), a)
	return writeOne(w, http.StatusCreated, a, storeError(err, "app", a.ID), toAppJSON)
}

// listApps serves GET /v1/apps.
func (s *server) listApps(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := pageQuery(r.URL, "app")
	if err != nil {
		return err
	}
	apps, next, err := s.store.ListApps(r.Context(), p)
	return writePage(w, "apps", apps, next, err, toAppJSON)
}

// loadApp returns the app of the request.
func (s *server) loadApp(r *http.Request, c *call) (*domain.App, error) {
	if c.app != nil {
		return c.app, nil
	}
	a, err := s.store.GetApp(r.Context(), c.appID)
	return a, storeError(err, "app", c.appID)
}

// getApp serves GET /v1/apps/{app}.
func (s *server) getApp(w http.ResponseWriter, r *http.Request, c *call) error {
	a, err := s.loadApp(r, c)
	return writeOne(w, http.StatusOK, a, err, toAppJSON)
}

// updateApp serves PATCH /v1/apps/{app}.
func (s *server) updateApp(w http.ResponseWriter, r *http.Request, c *call) error {
	var in appInput
	if err := decodeBody(w, r, maxBodyBytes, false, &in); err != nil {
		return err
	}
	a, err := s.loadApp(r, c)
	if err != nil {
		return err
	}
	updated := *a
	if err := in.apply(&updated, false); err != nil {
		return err
	}
	updated.UpdatedAt = s.timeNow()
	err = s.svc.UpdateApp(r.Context(), &updated)
	return writeOne(w, http.StatusOK, &updated, storeError(err, "app", a.ID), toAppJSON)
}

// deleteApp serves DELETE /v1/apps/{app}: the app goes with everything it owns.
func (s *server) deleteApp(w http.ResponseWriter, r *http.Request, c *call) error {
	// Collect the endpoints first, to tell the engine they are gone.
	if err := s.svc.DeleteApp(r.Context(), c.appID); err != nil {
		return storeError(err, "app", c.appID)
	}
	s.keys.drop(func(k *domain.APIKey) bool { return k.AppID == c.appID })
	return noContent(w)
}
